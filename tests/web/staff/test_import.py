"""Roster import from the staff console: upload, dry run, then the import as a background job."""

from __future__ import annotations

import re
from pathlib import Path

from portal.clock import to_db
from portal.consent import commands
from portal.consent.rules import Actor, Channel
from portal.db import imports as import_rows
from portal.people import demo, roster

HEADER = "family,kind,first_name,last_name,email,cell_phone,texting,consent_note\n"
SAMPLE = (
    HEADER + "Garcia,contact,Ana,Garcia,ana@garcia.example,(201) 555-0140,yes,paper form 2026\n"
    "Garcia,student,Leo,Garcia,,,,\n"
)


def _upload(portal, text: str, filename: str = "roster.csv"):
    token = portal.csrf("/staff/import")
    return portal.client.post(
        "/staff/import",
        data={"csrf_token": token},
        files={"file": (filename, text.encode(), "text/csv")},
    )


def _start(portal, review):
    """Press Import on a dry run's page; returns the job page and the job id."""
    action = re.search(r'<form method="post" action="([^"]+)"', review.text.split("<h1", 1)[1])
    assert action, "no Import button"
    job_page = portal.post(action.group(1), {}, token_from=review.url.path)
    job_id = int(job_page.url.path.rsplit("/", 1)[1])
    return job_page, job_id


def _finish(portal, job_id: int):
    """Wait for the background task itself (no sleeping), then read the job's page."""
    portal.call(portal.app.state.import_runner.wait, job_id)
    [job] = portal.rows(
        "SELECT status, done, total FROM import_jobs WHERE id = :id", {"id": job_id}
    )
    return job, portal.client.get(f"/staff/import/jobs/{job_id}")


def _people(portal) -> int:
    return portal.rows("SELECT COUNT(*) AS n FROM people")[0].n


def _events(portal) -> int:
    return portal.rows("SELECT COUNT(*) AS n FROM consent_events")[0].n


def test_the_upload_page_has_a_labelled_file_input_and_the_csrf_token(portal):
    portal.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD)
    page = portal.client.get("/staff/import").text
    assert '<label for="file">' in page and 'id="file" name="file" type="file"' in page
    assert 'enctype="multipart/form-data"' in page and 'name="csrf_token"' in page


def test_a_dry_run_shows_each_row_and_changes_nothing(portal):
    portal.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD)
    people, events = _people(portal), _events(portal)
    review = _upload(portal, SAMPLE)
    assert review.status_code == 200 and "/staff/import/files/" in review.url.path
    assert "Dry run: roster.csv" in review.text
    assert "line 2: add Ana Garcia (contact, Garcia); texts allowed" in review.text
    assert "line 3: add Leo Garcia (student, Garcia)" in review.text
    assert "would import 2 people" in review.text
    assert (_people(portal), _events(portal)) == (people, events)
    assert portal.rows("SELECT COUNT(*) AS n FROM import_jobs")[0].n == 0
    # The file stays on the server; the page holds only its id.
    [kept] = portal.rows("SELECT id, filename FROM pending_imports")
    assert kept.filename == "roster.csv" and "paper form 2026" not in review.text.split("<form")[1]


def test_a_file_with_errors_shows_every_error_and_imports_nothing_even_if_posted(portal):
    portal.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD)
    people, events = _people(portal), _events(portal)
    bad = (
        HEADER + "Garcia,contact,Ana,Garcia,ana@garcia.example,2015550140,yes,\n"
        "Garcia,teacher,Leo,Garcia,,555,,\n"
        "Lee,contact,Morgan,Lee,lee@demo.example,2015550111,yes,paper form\n"
    )
    _stop(portal, "+12015550111")
    events = _events(portal)
    review = _upload(portal, bad)
    assert "Nothing can be imported from this file" in review.text
    assert "line 2: texting yes needs a consent_note" in review.text
    assert "line 3: kind must be contact or student" in review.text and "cell_phone:" in review.text
    assert "Import</button>" not in review.text
    # Posting the Import form anyway runs the checks again, and changes nothing.
    pending_id = int(review.url.path.rsplit("/", 1)[1])
    job_page = portal.post(f"/staff/import/files/{pending_id}", {}, token_from=review.url.path)
    job, page = _finish(portal, int(job_page.url.path.rsplit("/", 1)[1]))
    assert job.status == "refused" and "Nothing imported" in page.text
    assert "texting yes needs a consent_note" in page.text
    assert (_people(portal), _events(portal)) == (people, events)


def test_the_consent_column_never_opts_in_a_number_that_replied_stop(portal):
    _stop(portal, "+12015550140")
    portal.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD)
    review = _upload(portal, SAMPLE)
    assert "line 2: this number replied STOP" in review.text
    assert "Import</button>" not in review.text


def test_an_import_through_the_page_runs_in_the_background_to_done_with_its_report(portal):
    portal.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD)
    people = _people(portal)
    rows = 2 * roster.CHUNK_ROWS + 50  # three chunks, so progress is written three times
    text = HEADER + "".join(
        f"Family {i // 3},student,Kid{i},Family{i // 3},,,,\n" for i in range(rows)
    )
    review = _upload(portal, text, "big.csv")
    assert f"would import {rows} people" in review.text
    job_page, job_id = _start(portal, review)
    assert job_page.status_code == 200 and "Import: big.csv" in job_page.text
    job, page = _finish(portal, job_id)
    assert (job.status, job.done, job.total) == ("done", rows, rows)
    assert f"Done: {rows} rows" in page.text and f"imported {rows} people" in page.text
    assert 'http-equiv="refresh"' not in page.text
    assert _people(portal) == people + rows
    started, action = portal.rows(
        "SELECT action, subject_id, details FROM staff_actions ORDER BY id"
    )
    assert (started.action, started.subject_id) == ("roster.import_started", job_id)
    assert action.action == "roster.import" and action.subject_id == job_id
    assert '"created": 450' in action.details and '"file": "big.csv"' in action.details
    # The same file again changes nothing.
    _, again = _start(portal, portal.client.get(review.url.path))
    job, page = _finish(portal, again)
    assert job.status == "done" and "imported 0 people" in page.text
    assert _people(portal) == people + rows


def test_the_job_page_refreshes_itself_until_the_import_is_done(portal, clock):
    portal.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD)
    review = _upload(portal, SAMPLE)
    pending_id = int(review.url.path.rsplit("/", 1)[1])

    async def running_job():  # a job as it stands mid-way, without a task to finish it
        async with portal.ctx.db.write() as conn:
            job_id = await import_rows.add_job(
                conn, pending_import_id=pending_id, created_by=None, now=to_db(portal.ctx.now())
            )
            now = to_db(portal.ctx.now())
            await import_rows.set_progress(conn, job_id, done=200, total=450, now=now)
            return job_id

    job_id = portal.call(running_job)
    page = portal.client.get(f"/staff/import/jobs/{job_id}").text
    head = page.split("</head>")[0]
    assert '<meta name="portal-refresh" content="2">' in head and 'http-equiv="refresh"' not in page
    assert re.findall(r'<script src="([^"]+)"', page) == ["/static/progress.js"]
    assert (
        "200 of 450 rows written" in page
        and f'href="/staff/import/jobs/{job_id}">Check again' in page
    )
    # A job whose server stopped mid-way stops refreshing, and says what to do.
    clock.advance(minutes=11)
    page = portal.client.get(f"/staff/import/jobs/{job_id}").text
    assert "portal-refresh" not in page and "import the same file again" in page


def test_a_stop_that_arrives_while_an_import_runs_is_recorded(portal):
    portal.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD)
    text = HEADER + "".join(
        f"Stop {i},contact,Adult{i},Stop,,(201) 555-{1000 + i},yes,registration form\n"
        for i in range(3 * roster.CHUNK_ROWS)
    )
    _, job_id = _start(portal, _upload(portal, text))
    _stop(portal, "+12015551500")  # between two of the import's chunks, or after it
    job, _ = _finish(portal, job_id)
    assert job.status == "done"
    assert portal.rows("SELECT active FROM phone_suppressions WHERE phone = '+12015551500'")[
        0
    ].active
    # Whether the STOP came before or after Adult500's row was written, it wins: the import
    # never leaves that number opted in.
    [adult] = portal.rows("SELECT id FROM people WHERE first_name = 'Adult500'")
    states = portal.rows("SELECT status FROM consent_state WHERE person_id = :id", {"id": adult.id})
    assert [state.status for state in states] in ([], ["opted_out"])


def test_a_viewer_cannot_import(viewer):
    assert viewer.client.get("/staff/import").status_code == 403
    token = viewer.csrf("/staff/")
    response = viewer.client.post(
        "/staff/import",
        data={"csrf_token": token},
        files={"file": ("roster.csv", SAMPLE.encode(), "text/csv")},
    )
    assert response.status_code == 403
    assert viewer.rows("SELECT COUNT(*) AS n FROM pending_imports")[0].n == 0


def test_a_parent_gets_403_for_every_import_page(parent):
    for path in ("/staff/import", "/staff/import/files/1", "/staff/import/jobs/1"):
        assert parent.client.get(path).status_code == 403, path
    token = parent.csrf("/account/settings")
    assert (
        parent.client.post("/staff/import/files/1", data={"csrf_token": token}).status_code == 403
    )


def _stop(portal, phone: str) -> None:
    async def stop():
        async with portal.ctx.db.write() as conn:
            await commands.suppress_number(
                conn,
                portal.ctx,
                phone=phone,
                channel=Channel.SMS_KEYWORD,
                actor=Actor(kind="handset", label=phone),
                evidence={"body": "STOP"},
            )

    portal.call(stop)


def test_the_readme_sample_roster_imports_through_the_page_after_its_dry_run(portal):
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    sample = readme.split("## Roster CSV", 1)[1].split("```csv\n", 1)[1].split("```", 1)[0]
    portal.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD)
    review = _upload(portal, sample)
    assert "would import 4 people" in review.text and "Nothing can be imported" not in review.text
    _, job_id = _start(portal, review)
    job, page = _finish(portal, job_id)
    assert job.status == "done" and "imported 4 people" in page.text
    assert "recorded 2 consent changes" in page.text


def test_pressing_import_while_another_import_runs_shows_the_running_one(portal):
    portal.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD)
    review = _upload(portal, SAMPLE)
    pending_id = int(review.url.path.rsplit("/", 1)[1])

    async def running_job():  # one import at a time: two on one file would add people twice
        async with portal.ctx.db.write() as conn:
            return await import_rows.add_job(
                conn, pending_import_id=pending_id, created_by=None, now=to_db(portal.ctx.now())
            )

    running = portal.call(running_job)
    page, job_id = _start(portal, review)
    assert job_id == running
    assert portal.rows("SELECT COUNT(*) AS n FROM import_jobs")[0].n == 1
    assert portal.rows("SELECT COUNT(*) AS n FROM people WHERE last_name = 'Garcia'")[0].n == 0


def test_a_job_records_its_progress_at_most_every_progress_seconds_and_when_done(
    portal, monkeypatch
):
    from portal.people import import_jobs

    monkeypatch.setattr(roster, "CHUNK_ROWS", 20)
    monkeypatch.setattr(import_jobs, "PROGRESS_SECONDS", 3600.0)
    recorded: list[tuple[int, int]] = []
    set_progress = import_rows.set_progress

    async def recording(conn, job_id, *, done, total, now):
        recorded.append((done, total))
        await set_progress(conn, job_id, done=done, total=total, now=now)

    monkeypatch.setattr(import_rows, "set_progress", recording)
    portal.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD)
    text = HEADER + "".join(f"Pace {i},student,Kid{i},Pace,,,,\n" for i in range(100))
    _, job_id = _start(portal, _upload(portal, text))
    job, _ = _finish(portal, job_id)
    assert (job.status, job.done, job.total) == ("done", 100, 100)
    # The first chunk's progress, then nothing within the hour but the last.
    assert recorded == [(20, 100), (100, 100)]
