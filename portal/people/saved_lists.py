"""Saved lists: staff name a list and fill it from a People search (every match, page by
page) or from a person's page. Each change is in the audit log. Being in a list decides
nothing: whether someone may be texted is asked at preview and again at send (rule 2)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portal.clock import to_db
from portal.db import people_search, staff_actions
from portal.db import saved_lists as list_rows
from portal.people import search
from portal.validation import name_problem

if TYPE_CHECKING:
    from portal.context import PortalContext
    from portal.people.search import Criteria

# Rows per write transaction while filling from a search.
PAGE = 500


class BadList(ValueError):
    """A list name that may not be saved; the message is in words for the form."""


async def _record(conn, ctx, action: str, list_id: int, details: dict, account_id, ip) -> None:
    await staff_actions.record(
        conn,
        account_id=account_id,
        action=action,
        subject_kind="saved_list",
        subject_id=list_id,
        details=details,
        ip=ip,
        now=to_db(ctx.now()),
    )


async def create(ctx: PortalContext, *, name: str, account_id: int, ip: str) -> int:
    name = " ".join(name.split())
    problem = name_problem(name)
    if problem:
        raise BadList(problem)
    async with ctx.db.write() as conn:
        list_id = await list_rows.create(
            conn, name=name, created_by=account_id, now=to_db(ctx.now())
        )
        await _record(conn, ctx, "saved_list_create", list_id, {"name": name}, account_id, ip)
    return list_id


async def add_person(
    ctx: PortalContext, list_id: int, person_id: int, *, account_id: int, ip: str
) -> int:
    async with ctx.db.write() as conn:
        added = await list_rows.add(conn, list_id, [person_id], now=to_db(ctx.now()))
        if added:
            details = {"person_id": person_id}
            await _record(conn, ctx, "saved_list_add", list_id, details, account_id, ip)
    return added


async def add_matches(
    ctx: PortalContext, list_id: int, criteria: Criteria, *, account_id: int, ip: str
) -> int:
    """Add everyone the People search matches, paging by keyset; how many were new."""
    added, after = 0, None
    while True:
        async with ctx.db.write() as conn:
            rows = await people_search.search(conn, criteria, after=after, limit=PAGE)
            added += await list_rows.add(conn, list_id, [r.id for r in rows], now=to_db(ctx.now()))
        if len(rows) < PAGE:
            break
        after = search.read_cursor(search.cursor_of(rows[-1]))
    async with ctx.db.write() as conn:
        details = {"added": added, "search": _criteria_words(criteria)}
        await _record(conn, ctx, "saved_list_add", list_id, details, account_id, ip)
    return added


def _criteria_words(criteria: Criteria) -> dict:
    return {k: v for k, v in vars(criteria).items() if v not in (None, False)}


async def remove_person(
    ctx: PortalContext, list_id: int, person_id: int, *, account_id: int, ip: str
) -> bool:
    async with ctx.db.write() as conn:
        removed = await list_rows.remove(conn, list_id, person_id)
        if removed:
            details = {"person_id": person_id}
            await _record(conn, ctx, "saved_list_remove", list_id, details, account_id, ip)
    return removed


async def delete(ctx: PortalContext, list_id: int, *, account_id: int, ip: str) -> None:
    async with ctx.db.write() as conn:
        found = await list_rows.get(conn, list_id)
        if found is None:
            return
        await list_rows.delete(conn, list_id)
        await _record(conn, ctx, "saved_list_delete", list_id, {"name": found.name}, account_id, ip)
