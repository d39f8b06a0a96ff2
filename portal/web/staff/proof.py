"""Staff: proof of consent, the ledger export and one page (and download) per phone number."""

from __future__ import annotations

import re

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse

from portal import phones
from portal.clock import to_db
from portal.consent import export
from portal.web.access import staff_required
from portal.web.pages import render

# E.164: a plus, then at most 15 digits. Anything else in the URL is not a number we hold.
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


@staff_required
async def proof(request: Request) -> Response:
    """The lookup form; given a number typed any way, the page of that number."""
    typed = request.query_params.get("phone", "").strip()
    if not typed:
        return render(request, "staff/proof/proof.html", typed="", error="")
    phone = _parse_typed(typed)
    if phone is None:
        error = "That does not look like a phone number. Include the area code."
        return render(request, "staff/proof/proof.html", status_code=400, typed=typed, error=error)
    url = request.app.url_path_for("staff.proof_number", phone=phone)
    return RedirectResponse(str(url), status_code=303)


@staff_required
async def proof_export(request: Request) -> Response:
    """The whole ledger, streamed: a page of events at a time, never all of it in memory."""
    ctx = request.app.state.ctx
    stamp = to_db(ctx.now())[:10]
    return StreamingResponse(
        export.ledger_csv_chunks(ctx),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="consent-ledger-{stamp}.csv"'},
    )


@staff_required
async def proof_number(request: Request) -> Response:
    found = await _number_proof(request)
    if not found.known:
        # A well-formed number the ledger never saw: say so plainly, on the lookup page.
        return render(
            request, "staff/proof/proof.html", status_code=404, typed=found.phone, unknown=True
        )
    return render(request, "staff/proof/number.html", proof=found)


@staff_required
async def proof_number_export(request: Request) -> Response:
    found = await _number_proof(request)
    if not found.known:
        raise HTTPException(404)
    return Response(
        export.number_proof_csv(found),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="consent-{found.phone[1:]}.csv"'},
    )


async def _number_proof(request: Request) -> export.NumberProof:
    phone = request.path_params["phone"]
    # Only numbers as we store them: E.164 that reads back the same. Anything else is 404.
    if not _E164.fullmatch(phone) or phones.try_normalize(phone) != phone:
        raise HTTPException(404)
    return await export.number_proof(request.app.state.ctx, phone)


def _parse_typed(typed: str) -> str | None:
    """A number typed any way: a cell phone as staff enter them, or else any number a
    handset could have texted from (a STOP may come from a number nobody has on file)."""
    if len(typed) > 40:
        return None
    whole = phones.valid_or_none(typed)
    if whole is None and sum(ch.isdigit() for ch in typed) >= 10:
        whole = phones.try_normalize(typed)  # possible, if not valid: a handset that texted us
    return whole
