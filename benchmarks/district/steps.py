"""The rows of issue 12's table, each measured against its floor in the same run."""

from __future__ import annotations

import asyncio
import email.message
import secrets
import time
import urllib.parse

from benchmarks.district import data
from benchmarks.district.processes import PORTAL, RssWatch, memory_kib
from benchmarks.district.report import Row, limit_row, percentile, rate_row
from benchmarks.district.setup import Stage
from portal.people import demo
from portal.people import search as people_search

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _ok(result: dict) -> tuple[int, str]:
    """How many answers were not 2xx/3xx, and the statuses in words."""
    bad = sum(n for status, n in result["statuses"].items() if not 200 <= int(status) < 400)
    return bad, ", ".join(f"{n}×{status}" for status, n in sorted(result["statuses"].items()))


async def roster_import(stage: Stage, sizes) -> list:
    """`portal import-roster` of the district's roster (its own process, as an office runs it),
    against plain sqlite3 executemany of the same people."""
    workdir = stage.workdir
    rows = data.roster_rows(sizes.import_rows, 0, saves_students=32)
    path = workdir / "roster-1.csv"
    data.write_roster(path, rows)
    seconds, _ = stage.procs.run("import-roster", str(path))
    columns, floor_rows = data.people_floor_rows(rows)
    floor = data.executemany_floor(workdir / "floor.sqlite3", "people", columns, floor_rows)
    # 15 s for 50,000 rows; a quick run's smaller roster gets its share of that.
    limit = 15 * sizes.import_rows / 50_000
    return [
        limit_row(
            f"roster import, {len(rows):,} rows (CLI)",
            seconds,
            "s",
            limit,
            floor,
            note="floor: sqlite3 executemany of the same people",
        )
    ]


async def pages(stage: Stage, sizes) -> list:
    """The emailed consent page and Account > Students under wrk, against the bare route."""
    from portal.context import PortalContext
    from portal.db import links as link_rows
    from portal.settings import Settings

    ctx = PortalContext.build(Settings.from_mapping(stage.env))
    async with stage.db.write() as conn:
        jordan = await conn.fetch_one(
            "SELECT p.id, p.cell_phone, COALESCE(s.version, 0) AS version FROM people p"
            " LEFT JOIN consent_state s ON s.person_id = p.id WHERE p.first_name = 'Jordan'"
        )
        link = await ctx.consent_links.issue(
            conn,
            person_id=jordan["id"],
            phone=jordan["cell_phone"],
            consent_version=jordan["version"],
            sent_to="jordan@demo.example",
        )
        page = await link_rows.consent_page(conn, link.link_id)
    stage.start_floor(dict(page))
    path = f"/text-consent/{link.token}"
    floor = stage.wrk(f"http://127.0.0.1:{stage.floor_port}{path}", sizes.page_seconds)
    product = stage.wrk(stage.public_url + path, sizes.page_seconds)
    parent, _ = await stage.login(demo.PARENT_EMAIL, demo.PARENT_PASSWORD)
    students = stage.wrk(
        stage.public_url + "/account/students",
        sizes.page_seconds,
        {"Cookie": stage.cookie_header(parent)},
    )
    await parent.aclose()
    return [
        rate_row(
            "GET emailed consent page (wrk, 32 conns)",
            product["rate"],
            floor["rate"],
            0.5,
            note=_wrk_note(product),
            ok=not product["bad"],
        ),
        rate_row(
            "GET Account > Students, logged in (wrk)",
            students["rate"],
            floor["rate"],
            0.4,
            note=_wrk_note(students),
            ok=not students["bad"],
        ),
    ]


def _wrk_note(result: dict) -> str:
    return f"non-2xx: {result['bad']}" + (f"; {result['errors']}" if result["errors"] else "")


async def saves(stage: Stage, sizes) -> list:
    """32 parents' browsers at once, each switching its own student off and on: every save a
    consent change with its email (off) or confirmation text (on)."""
    client, csrf = await stage.login(demo.SECOND_PARENT_EMAIL, demo.SECOND_PARENT_PASSWORD)
    headers = {**FORM, "Cookie": stage.cookie_header(client), "Origin": stage.public_url}
    await client.aclose()
    async with stage.db.read() as conn:
        savers = await conn.fetch_all(
            "SELECT id, first_name, last_name, cell_phone FROM people"
            " WHERE first_name LIKE :saver ORDER BY id",
            {"saver": "Saver%"},
        )
        events_before = await conn.fetch_val("SELECT COUNT(*) FROM consent_events")
    connections, floor_connections = [], []
    for person in savers:
        mine, floor_mine = [], []
        for n in range(sizes.saves_per_connection):
            on = n % 2 == 1  # they start opted in: off, on, off...
            form = {
                "csrf_token": csrf,
                "first_name": person["first_name"],
                "last_name": person["last_name"],
                "cell_phone": person["cell_phone"],
                "allow_texting_was": "off" if on else "on",
            }
            if on:
                form["allow_texting"] = "on"
            body = urllib.parse.urlencode(form)
            mine.append(["POST", f"/account/students/{person['id']}/edit", headers, body])
            floor_mine.append(["POST", "/floor/save", headers, body])
        connections.append(mine)
        floor_connections.append(floor_mine)
    floor = stage.load(stage.floor_port, floor_connections, processes=2)
    product = stage.load(stage.port, connections, processes=2)
    async with stage.db.read() as conn:
        changes = await conn.fetch_val("SELECT COUNT(*) FROM consent_events") - events_before
    bad, statuses = _ok(product)
    total = len(savers) * sizes.saves_per_connection
    rate = product["count"] / product["elapsed"]
    return [
        rate_row(
            f"portal saves, {total:,}, 32 at a time",
            rate,
            floor["count"] / floor["elapsed"],
            0.1,
            ok=not bad and changes == total,
            note=f"{changes:,} consent changes recorded; {statuses}",
        )
    ]


async def stop_burst(stage: Stage, sizes) -> list:
    """Signed STOP webhooks from distinct numbers, 32 at a time; then each recorded once?"""
    numbers = data.stop_numbers(sizes.stop_burst, 0)
    connections, floor_connections, sids = [[] for _ in range(32)], [[] for _ in range(32)], []
    for n, number in enumerate(numbers):
        sid = "SM" + secrets.token_hex(16)
        sids.append(sid)
        headers, body = stage.signed_text(sid, number, "STOP")
        connections[n % 32].append(["POST", "/webhooks/twilio/sms", headers, body])
        floor_connections[n % 32].append(["POST", "/floor/form", headers, body])
    floor = stage.load(stage.floor_port, floor_connections, processes=2)
    product = stage.load(stage.port, connections, processes=2)
    recorded, suppressed = await _recorded(stage, sids, numbers)
    bad, statuses = _ok(product)
    exact = recorded == len(sids) and suppressed == len(numbers)
    return [
        rate_row(
            f"STOP burst, {len(numbers):,} distinct numbers, 32 at a time",
            product["count"] / product["elapsed"],
            floor["count"] / floor["elapsed"],
            0.1,
            ok=not bad and exact,
            note=f"recorded once: {recorded:,}/{len(sids):,}; numbers suppressed "
            f"{suppressed:,}; {statuses}",
        )
    ]


async def _recorded(stage: Stage, sids: list[str], numbers: list[str]) -> tuple[int, int]:
    """Inbound rows for these SIDs, and active suppressions of these numbers, once any
    spooled text has been processed."""
    spool = stage.workdir / "spool"
    deadline = time.monotonic() + 120
    while spool.exists() and any(spool.iterdir()) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    recorded = suppressed = 0
    async with stage.db.read() as conn:
        for start in range(0, len(sids), 500):
            part = sids[start : start + 500]
            marks = ", ".join(f":s{i}" for i in range(len(part)))
            recorded += await conn.fetch_val(
                f"SELECT COUNT(*) FROM inbound_messages WHERE message_sid IN ({marks})",
                {f"s{i}": sid for i, sid in enumerate(part)},
            )
            phones = numbers[start : start + 500]
            marks = ", ".join(f":p{i}" for i in range(len(phones)))
            suppressed += await conn.fetch_val(
                f"SELECT COUNT(*) FROM phone_suppressions WHERE active = 1 AND phone IN ({marks})",
                {f"p{i}": phone for i, phone in enumerate(phones)},
            )
    return recorded, suppressed


async def _drained(stage: Stage, timeout: float = 600) -> float:
    """Until no email is due. Texts are left to their pace (SMS_PER_SECOND, 1 by default): the
    import's opt-in confirmations drip out through the whole run, as they would for real."""

    async def empty(conn):
        return not await conn.fetch_val(
            "SELECT COUNT(*) FROM outbox WHERE channel = 'email' AND status = 'pending'"
            " AND next_attempt_at <= :now",
            {"now": _now()},
        )

    return await stage.wait_until(empty, timeout, every=0.2)


def _now() -> str:
    import datetime as dt

    from portal.clock import to_db

    return to_db(dt.datetime.now(dt.UTC))


async def requests_and_outbox(stage: Stage, sizes) -> list:
    """Staff send the CLICK HERE request to everyone never asked (queued in the background);
    then 5,000 emails of that kind go to aiosmtpd by the server's dispatcher, against a plain
    aiosmtplib loop over one connection."""
    await _drained(stage)
    staff, csrf = await stage.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD)
    started = time.perf_counter()
    answer = await staff.post(
        "/staff/requests", data={"csrf_token": csrf, "send_token": secrets.token_urlsafe(24)}
    )
    assert answer.status_code == 303, answer.status_code
    batch_id = int(answer.headers["location"].split("/")[-1].split("?")[0])

    async def finished(conn):
        return (
            await conn.fetch_val(
                "SELECT status FROM request_batches WHERE id = :id", {"id": batch_id}
            )
            != "running"
        )

    await stage.wait_until(finished, 600)
    queued_in = time.perf_counter() - started
    async with stage.db.read() as conn:
        batch = await conn.fetch_one(
            "SELECT status, sent FROM request_batches WHERE id = :id", {"id": batch_id}
        )
        sample = await conn.fetch_one(
            "SELECT subject, body_text, body_html, recipient FROM outbox"
            " WHERE template = 'consent_request' ORDER BY id DESC LIMIT 1"
        )
    columns, rows = data.request_floor_rows(batch["sent"], sample["body_text"])
    floor = data.executemany_floor(stage.workdir / "floor.sqlite3", "outbox", columns, rows)
    out = [
        limit_row(
            f"{batch['sent']:,} opt-in requests queued (staff Send)",
            queued_in,
            "s",
            5.0,
            floor,
            ok=batch["status"] == "done",
            note=f"batch {batch['status']}; floor: sqlite3 executemany of the same rows",
        )
    ]
    await _drained(stage, timeout=1800)
    # From Send: the dispatcher starts on the first batch while later ones are still queued.
    delivered_in = time.perf_counter() - started
    out.append(
        Row(
            f"those {batch['sent']:,} request emails, Send to all delivered",
            delivered_in,
            "s",
            target="(information)",
            note=f"{batch['sent'] / delivered_in:,.0f} emails/s",
        )
    )
    out.append(await _outbox(stage, sizes, sample))
    await staff.aclose()
    return out


async def _outbox(stage: Stage, sizes, sample) -> object:
    from portal.db import outbox as outbox_rows

    now = _now()
    marker = f"bench-{secrets.token_hex(4)}"
    rows = [
        {
            "channel": "email",
            "template": marker,
            "recipient": f"outbox{i}@district.example",
            "person_id": None,
            "subject": sample["subject"],
            "body_text": sample["body_text"],
            "body_html": sample["body_html"],
            "message_id": f"<{secrets.token_hex(16)}@bench>",
            "requires_consent": 0,
            "next_attempt_at": now,
            "created_at": now,
            "reply_to": "",
            "mass_text_id": None,
            "segments": 1,
        }
        for i in range(sizes.outbox_emails)
    ]
    async with stage.db.write() as conn:  # queued at once; the dispatcher polls for them
        await outbox_rows.add_many(conn, rows)

    async def sent(conn):
        return await conn.fetch_val(
            "SELECT COUNT(*) FROM outbox WHERE template = :t AND status = 'sent'", {"t": marker}
        ) == len(rows)

    seconds = await stage.wait_until(sent, 1800, every=0.05)
    message = email.message.EmailMessage()
    message["From"], message["To"] = "no-reply@portal.example", sample["recipient"]
    message["Subject"], message["Message-ID"] = sample["subject"], "<floor@bench>"
    message.set_content(sample["body_text"])
    message.add_alternative(sample["body_html"], subtype="html")
    floor = await data.smtp_floor(stage.smtp_port, len(rows), message.as_bytes())
    product_rate, floor_rate = len(rows) / seconds, len(rows) / floor
    row = rate_row(
        f"outbox: {len(rows):,} emails to aiosmtpd",
        product_rate,
        floor_rate,
        0.8,
        note="floor: aiosmtplib loop, one connection; rates in emails/s",
    )
    row.unit = "emails/s"
    return row


async def mass_text(stage: Stage, sizes) -> list:
    """Staff Send a text to everyone who may be texted; queued in the background. Cancelled
    afterwards, so that no text goes out during the later rows."""
    staff, csrf = await stage.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD)
    body = "Riverside: classes resume Monday at 4pm. Reply STOP to opt out."
    started = time.perf_counter()
    answer = await staff.post(
        "/staff/messages/send",
        data={
            "csrf_token": csrf,
            "send_token": secrets.token_urlsafe(24),
            "body": body,
            "status": "allowed",
        },
    )
    assert answer.status_code == 303, (answer.status_code, answer.text[:2000])
    mass_id = int(answer.headers["location"].split("/")[-1].split("?")[0])

    async def queued(conn):
        return not await conn.fetch_val(
            "SELECT queueing FROM mass_texts WHERE id = :id", {"id": mass_id}
        )

    await stage.wait_until(queued, 600)
    seconds = time.perf_counter() - started
    async with stage.db.read() as conn:
        count = await conn.fetch_val(
            "SELECT COUNT(*) FROM outbox WHERE mass_text_id = :id", {"id": mass_id}
        )
        problem = await conn.fetch_val(
            "SELECT queue_error FROM mass_texts WHERE id = :id", {"id": mass_id}
        )
    await staff.post(f"/staff/messages/{mass_id}/cancel", data={"csrf_token": csrf})
    await staff.aclose()
    columns, rows = data.outbox_floor_rows(count, body)
    floor = data.executemany_floor(stage.workdir / "floor.sqlite3", "texts", columns, rows)
    return [
        limit_row(
            f"mass text to {count:,} people, queued (staff Send)",
            seconds,
            "s",
            5.0,
            floor,
            ok=not problem,
            note="floor: sqlite3 executemany of the same rows"
            + (f"; error {problem}" if problem else ""),
        )
    ]


async def export(stage: Stage, sizes) -> list:
    """The ledger as CSV from the console's Proof page, streamed to a reader."""
    added = await data.seed_history(stage.db, sizes.export_events)
    staff, _ = await stage.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD)
    lines = 0
    async with RssWatch(stage.server.pid) as rss:
        started = time.perf_counter()
        async with staff.stream("GET", "/staff/proof/export.csv") as answer:
            async for chunk in answer.aiter_bytes():
                lines += chunk.count(b"\n")
        seconds = time.perf_counter() - started
    await staff.aclose()
    events = lines - 1
    return [
        limit_row(
            f"ledger export, {events:,} events (Proof CSV)",
            seconds,
            "s",
            5.0,
            note=f"{added:,} history rows seeded directly",
        ),
        limit_row("ledger export: server memory growth", rss.growth_mb, "MB", 50.0),
    ]


async def stop_during_import(stage: Stage, sizes) -> list:
    """STOPs from distinct numbers, 20 a second, while `portal import-roster` writes another
    district-sized roster in its own process: p99 answer and how many were lost."""
    workdir = stage.workdir
    path = workdir / "roster-2.csv"
    data.write_roster(path, data.roster_rows(sizes.import_rows, sizes.import_rows))
    numbers = [data.phone(i) for i in range(sizes.import_rows) if i % 5 in (2, 3)]
    per_connection = 4
    connections, sids = [[] for _ in range(per_connection)], []
    for n, number in enumerate(numbers):
        sid = "SM" + secrets.token_hex(16)
        sids.append(sid)
        headers, body = stage.signed_text(sid, number, "STOP")
        connections[n % per_connection].append(["POST", "/webhooks/twilio/sms", headers, body])
    stop_file = workdir / "import-done"
    stop_file.unlink(missing_ok=True)
    importer = stage.procs.start("import-2", [PORTAL, "import-roster", str(path)])
    load = asyncio.get_running_loop().run_in_executor(
        None,
        lambda: stage.load(
            stage.port, connections, processes=1, pace=0.2, stop_file=str(stop_file)
        ),
    )
    while importer.poll() is None:
        await asyncio.sleep(0.2)
    stop_file.write_text("done")
    result = await load
    import_ok = importer.returncode == 0
    stage.procs.stop(importer)
    sent = result["count"]
    # Which SIDs were sent is not known here (the connections stop together): every recorded
    # one of those prepared was sent, and every sent one was answered.
    recorded_all, _ = await _recorded(stage, sids, numbers)
    bad, statuses = _ok(result)
    lost = sent - recorded_all
    p99 = percentile(result["latencies"], 0.99)
    return [
        limit_row(
            f"STOP p99 while a {sizes.import_rows:,}-row import runs",
            p99,
            "s",
            1.0,
            ok=not bad and lost == 0 and import_ok,
            note=f"{sent:,} STOPs, lost {lost}, {statuses}; import ok: {import_ok}",
        )
    ]


async def staff_pages(stage: Stage, sizes) -> list:
    """Search and filters over the whole district, and the dashboard: p95 of one staff member
    clicking through, and the largest page."""
    added = await data.seed_history(stage.db, sizes.search_events)
    staff, _ = await stage.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD)
    headers = {"Cookie": stage.cookie_header(staff)}
    await staff.aclose()
    async with stage.db.read() as conn:
        people = await conn.fetch_val("SELECT COUNT(*) FROM people")
        events = await conn.fetch_val("SELECT COUNT(*) FROM consent_events")
        # Pages deep into the list, as the Next page link carries them: four fifths down.
        deep = await conn.fetch_one(
            "SELECT lower(last_name) AS sort_last, lower(first_name) AS sort_first, id"
            " FROM people WHERE archived_at IS NULL"
            " ORDER BY lower(last_name), lower(first_name), id LIMIT 1 OFFSET :skip",
            {"skip": people * 4 // 5},
        )
    after = "after=" + urllib.parse.quote(people_search.cursor_of(deep))
    queries = [
        "q=First1234",
        "q=Last77",
        "q=0103",
        "q=(201)%20200-0417",
        "q=p4242%40district",
        "q=Kid",
        "q=District%20000123",
    ]
    queries += [
        f"status={s}"
        for s in (
            "allowed",
            "not_allowed",
            "pending",
            "stopped",
            "never_asked",
            "blocked",
            "no_phone",
        )
    ]
    queries += ["status=allowed&q=First", "status=never_asked&q=Last1"]
    queries += [after, f"status=allowed&{after}", f"status=never_asked&{after}", f"q=First&{after}"]
    search = [
        ["GET", f"/staff/people?{queries[n % len(queries)]}", headers, ""]
        for n in range(sizes.latency_requests)
    ]
    dashboard = [["GET", "/staff/", headers, ""] for _ in range(sizes.latency_requests // 2)]
    found = stage.load(stage.port, [search], processes=1)
    board = stage.load(stage.port, [dashboard], processes=1)
    note = f"{people:,} people, {events:,} events ({added:,} seeded)"
    bad_search, statuses = _ok(found)
    bad_board, board_statuses = _ok(board)
    return [
        limit_row(
            "staff search/filters p95",
            percentile(found["latencies"], 0.95) * 1000,
            "ms",
            50.0,
            ok=not bad_search,
            note=f"{note}; {statuses}",
        ),
        limit_row("staff search: largest page", found["largest"] / 1024, "KB", 100.0),
        limit_row(
            "dashboard p95",
            percentile(board["latencies"], 0.95) * 1000,
            "ms",
            100.0,
            ok=not bad_board,
            note=board_statuses,
        ),
        limit_row("dashboard page", board["largest"] / 1024, "KB", 100.0),
    ]


def peak_rss(stage: Stage) -> list:
    peak = memory_kib(stage.server.pid)["VmHWM"] / 1024
    return [limit_row("server peak RSS (VmHWM) through the run", peak, "MB", 200.0)]
