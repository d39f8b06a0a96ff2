"""Message templates staff manage: checked like a composed text, each change in the audit log.

A template has an English body and may have a Spanish one (None: Spanish readers get the
English); each is checked on its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from portal.clock import to_db
from portal.db import message_templates as template_rows
from portal.db import staff_actions
from portal.messaging import mass_texts
from portal.validation import name_problem

if TYPE_CHECKING:
    from portal.context import PortalContext


class BadTemplate(ValueError):
    """A template that may not be saved: a name problem in words, or a BadText."""

    def __init__(self, name_problem: str | None = None, text: mass_texts.BadText | None = None):
        super().__init__(name_problem or (text.code if text else ""))
        self.name_problem = name_problem
        self.text = text


def _checked(ctx: PortalContext, name: str, body: str, body_es: str | None) -> None:
    problem = name_problem(name)
    try:
        mass_texts.check_template(body, organization=ctx.organization_name)
        if body_es is not None:
            mass_texts.check_template(body_es, organization=ctx.organization_name)
    except mass_texts.BadText as refusal:
        raise BadTemplate(problem, refusal) from refusal
    if problem:
        raise BadTemplate(problem)


async def create(
    ctx: PortalContext,
    *,
    name: str,
    body: str,
    body_es: str | None = None,
    account_id: int,
    ip: str,
) -> int:
    _checked(ctx, name, body, body_es)
    now = to_db(ctx.now())
    async with ctx.db.write() as conn:
        template_id = await template_rows.create(
            conn, name=name, body=body, body_es=body_es, created_by=account_id, now=now
        )
        await staff_actions.record(
            conn,
            account_id=account_id,
            action="message_template_create",
            subject_kind="message_template",
            subject_id=template_id,
            details={"name": name, "body": body, "body_es": body_es},
            ip=ip,
            now=now,
        )
    return template_id


async def update(
    ctx: PortalContext,
    template_id: int,
    *,
    name: str,
    body: str,
    body_es: str | None = None,
    account_id: int,
    ip: str,
) -> bool:
    """False when the template does not exist (deleted meanwhile)."""
    _checked(ctx, name, body, body_es)
    now = to_db(ctx.now())
    async with ctx.db.write() as conn:
        before = await template_rows.get(conn, template_id)
        if before is None:
            return False
        await template_rows.update(
            conn, template_id, name=name, body=body, body_es=body_es, now=now
        )
        await staff_actions.record(
            conn,
            account_id=account_id,
            action="message_template_update",
            subject_kind="message_template",
            subject_id=template_id,
            details={
                "before": {"name": before.name, "body": before.body, "body_es": before.body_es},
                "after": {"name": name, "body": body, "body_es": body_es},
            },
            ip=ip,
            now=now,
        )
    return True


async def delete(ctx: PortalContext, template_id: int, *, account_id: int, ip: str) -> bool:
    """False when the template does not exist."""
    now = to_db(ctx.now())
    async with ctx.db.write() as conn:
        before = await template_rows.get(conn, template_id)
        if before is None:
            return False
        await template_rows.delete(conn, template_id)
        await staff_actions.record(
            conn,
            account_id=account_id,
            action="message_template_delete",
            subject_kind="message_template",
            subject_id=template_id,
            details={"name": before.name, "body": before.body, "body_es": before.body_es},
            ip=ip,
            now=now,
        )
    return True
