"""Staff: roster import from the console: upload, dry run row by row, then the import of
that same file as a background job whose page follows its progress."""

from __future__ import annotations

import json

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.db import imports as import_rows
from portal.people import import_jobs, roster
from portal.web.access import staff_required
from portal.web.ids import parse_id
from portal.web.pages import client_ip, render
from portal.web.security import MAX_UPLOAD_BYTES


def _runner(request: Request) -> import_jobs.ImportRunner:
    """This server process's import runner, made on first use."""
    state = request.app.state
    if getattr(state, "import_runner", None) is None:
        state.import_runner = import_jobs.ImportRunner(state.ctx)
    return state.import_runner


@staff_required(role="texting")
async def import_form(request: Request) -> Response:
    return await _upload_page(request)


async def _upload_page(request: Request, error: str = "", status_code: int = 200) -> Response:
    async with request.app.state.ctx.db.read() as conn:
        jobs = await import_rows.recent_jobs(conn)
    return render(
        request,
        "staff/import/upload.html",
        status_code=status_code,
        error=error,
        jobs=jobs,
        columns=roster.IMPORT_COLUMNS,
        max_mb=MAX_UPLOAD_BYTES // 1_000_000,
    )


@staff_required(role="texting")
async def import_upload(request: Request) -> Response:
    """Keep the uploaded file server-side, then show its dry run."""
    async with request.form(max_files=1, max_fields=5) as form:
        upload = form.get("file")
        data = await upload.read() if isinstance(upload, UploadFile) else b""
        filename = upload.filename if isinstance(upload, UploadFile) else ""
    if not data:
        return await _upload_page(request, "Choose a CSV file to import.", status_code=400)
    pending_id = await import_jobs.keep_file(
        request.app.state.ctx,
        data,
        filename=filename or "roster.csv",
        account_id=request.state.account.id,
    )
    url = request.app.url_path_for("staff.import_review", pending_id=pending_id)
    return RedirectResponse(str(url), status_code=303)


@staff_required(role="texting")
async def import_review(request: Request) -> Response:
    """The dry run of a kept file: row by row what would change, and every error."""
    info, data = await _kept(request)
    report = await import_jobs.dry_run(request.app.state.ctx, data)
    return render(request, "staff/import/review.html", file=info, report=report)


@staff_required(role="texting")
async def import_start(request: Request) -> Response:
    """Import the kept file the dry run showed, as a background job."""
    info, _ = await _kept(request)
    try:
        job_id = await _runner(request).start(
            info["id"], account_id=request.state.account.id, ip=client_ip(request)
        )
    except import_jobs.ImportBusy as busy:
        job_id = busy.job_id  # one import at a time: show the one running
    url = request.app.url_path_for("staff.import_job", job_id=job_id)
    return RedirectResponse(str(url), status_code=303)


@staff_required(role="texting")
async def import_job(request: Request) -> Response:
    """A job's progress (the page refreshes itself while it runs), then its report."""
    job_id = parse_id(request.path_params["job_id"])
    async with request.app.state.ctx.db.read() as conn:
        job = await import_rows.job(conn, job_id)
    if job is None:
        raise HTTPException(404)
    return render(
        request,
        "staff/import/job.html",
        job=job,
        report=json.loads(job.report),
        stalled=import_jobs.stalled(request.app.state.ctx, job),
    )


async def _kept(request: Request) -> tuple[dict, bytes]:
    pending_id = parse_id(request.path_params["pending_id"])
    kept = await import_jobs.kept_file(request.app.state.ctx, pending_id)
    if kept is None:
        raise HTTPException(404)
    return kept
