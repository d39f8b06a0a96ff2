"""Staff: the Alerts page. Every opt-out, plain-words stops to review, messages in trouble.

Any staff member may look; texting staff (and admins) mark opt-outs seen, confirm a reviewed
stop, and retry a message. None of these changes consent: a reviewed stop stays an opt-out
(the "not an opt-out" correction is an admin's, on the person's page), and a retried text
still meets the consent check at send time.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.clock import to_db
from portal.db import alerts as alert_rows
from portal.db import inbound as inbound_rows
from portal.db import outbox as outbox_rows
from portal.db import staff_actions
from portal.messaging import failures
from portal.web.access import staff_may, staff_required
from portal.web.ids import parse_id
from portal.web.pages import client_ip, render
from portal.web.staff.alert_count import stuck_before

PAGE = 50


@staff_required
async def alerts(request: Request) -> Response:
    ctx = request.app.state.ctx
    before = request.query_params.get("before")
    before = parse_id(before) if before else None
    async with ctx.db.read() as conn:
        opt_outs = await alert_rows.opt_outs(conn, before=before, limit=PAGE + 1)
        stops = await inbound_rows.to_review(conn)
        people = await inbound_rows.people_with_numbers(
            conn, sorted({stop.from_phone for stop in stops})
        )
        troubled = await outbox_rows.troubled(conn, stuck_before=stuck_before(ctx))
    more = len(opt_outs) > PAGE
    opt_outs = opt_outs[:PAGE]
    return render(
        request,
        "staff/alerts/index.html",
        opt_outs=opt_outs,
        newest_id=opt_outs[0].id if opt_outs and before is None else None,
        next_before=opt_outs[-1].id if more else None,
        paged=before is not None,
        stops=[(s, [p for p in people if p.cell_phone == s.from_phone]) for s in stops],
        troubled=[(m, failures.reason(m.channel, m.last_error)) for m in troubled],
        done=request.query_params.get("done", ""),
        can_act=staff_may(request.state.account, "texting"),
    )


def _back(request: Request, done: str) -> RedirectResponse:
    return RedirectResponse(request.url_for("staff.alerts").path + f"?done={done}", 303)


async def _record(conn, request: Request, action: str, kind: str, subject: int, **details):
    ctx = request.app.state.ctx
    await staff_actions.record(
        conn,
        account_id=request.state.account.id,
        action=action,
        subject_kind=kind,
        subject_id=subject,
        details=details,
        ip=client_ip(request),
        now=to_db(ctx.now()),
    )


@staff_required(role="texting")
async def seen(request: Request) -> Response:
    """Mark one opt-out alert seen: it leaves the count, and stays on the page as seen."""
    ctx = request.app.state.ctx
    event_id = request.path_params["event_id"]
    async with ctx.db.write() as conn:
        done = await alert_rows.acknowledge(
            conn, event_id, account_id=request.state.account.id, now=to_db(ctx.now())
        )
        if done:
            await _record(conn, request, "alert.opt_out_seen", "consent_event", event_id)
    return _back(request, "seen")


@staff_required(role="texting")
async def seen_all(request: Request) -> Response:
    """Mark every opt-out seen up to the newest the page showed (later ones stay unseen)."""
    ctx = request.app.state.ctx
    up_to = parse_id((await request.form()).get("up_to", ""))
    async with ctx.db.write() as conn:
        count = await alert_rows.acknowledge_all(
            conn, up_to=up_to, account_id=request.state.account.id, now=to_db(ctx.now())
        )
        if count:
            await _record(conn, request, "alert.opt_outs_seen", "consent_event", up_to, count=count)
    return _back(request, "seen_all")


@staff_required(role="texting")
async def reviewed(request: Request) -> Response:
    """ "Reviewed: it is an opt-out": records the review; the opt-out stands as it was."""
    ctx = request.app.state.ctx
    message_id = request.path_params["message_id"]
    async with ctx.db.write() as conn:
        done = await inbound_rows.mark_reviewed(
            conn,
            message_id,
            account_id=request.state.account.id,
            outcome="opt_out",
            now=to_db(ctx.now()),
        )
        if done:
            await _record(
                conn, request, "inbound.reviewed", "inbound_message", message_id, outcome="opt_out"
            )
    return _back(request, "reviewed")


@staff_required(role="texting")
async def retry(request: Request) -> Response:
    """Queue a failed or stuck message again now, with its Message-ID. A text still passes
    the consent check when the dispatcher sends it: a retry never texts someone who stopped."""
    ctx = request.app.state.ctx
    outbox_id = request.path_params["outbox_id"]
    async with ctx.db.write() as conn:
        done = await outbox_rows.requeue(
            conn,
            outbox_id,
            account_id=request.state.account.id,
            now=to_db(ctx.now()),
            stuck_before=stuck_before(ctx),
        )
        if done:
            await _record(conn, request, "message.retried", "outbox", outbox_id)
    if not done:
        # Sent, retried by someone else a moment ago, or no such message: nothing to do.
        return _back(request, "not_retried")
    ctx.outbox_wakeup.set()
    return _back(request, "retried")
