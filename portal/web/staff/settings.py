"""Staff settings (admins): the organization, consent wording and reply texts, link lifetime.

What the environment says is only the first default; what an admin saves here wins. Wording
and reply texts are versioned: saving publishes a new version and never edits an old one, so
the ledger keeps pointing at the words each person saw. Every change is in the audit trail.
"""

from __future__ import annotations

import dataclasses
import json

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal import phones
from portal.clock import to_db
from portal.consent import reply_texts, wording
from portal.db import organization as org_rows
from portal.db import staff_actions
from portal.db import wordings as wording_rows
from portal.links import LONGEST_CONSENT_LINK_DAYS
from portal.validation import has_control_characters, name_problem, normalize_email
from portal.web.access import staff_required
from portal.web.pages import client_ip, render

MAX_TEXT = 1000


@dataclasses.dataclass
class OrganizationForm:
    name: str
    email: str
    phone: str
    link_days: str
    provider_answers: str  # "default", "yes" or "no"
    errors: dict[str, str] = dataclasses.field(default_factory=dict)

    @classmethod
    def of(cls, organization, settings) -> OrganizationForm:
        answers = organization.provider_answers_keywords
        return cls(
            name=organization.name,
            email=organization.email,
            phone=phones.display(organization.phone) if organization.phone else "",
            link_days=str(organization.consent_link_days or ""),
            provider_answers="default" if answers is None else ("yes" if answers else "no"),
        )

    def clean(self) -> dict | None:
        """The values to save, or None with `errors` filled in."""
        values: dict = {}
        if problem := name_problem(self.name):
            self.errors["name"] = problem
        values["name"] = self.name.strip()
        try:
            values["email"] = normalize_email(self.email)
        except ValueError as exc:
            self.errors["email"] = str(exc)
        values["phone"] = ""
        if self.phone.strip():
            try:
                values["phone"] = phones.normalize(self.phone, mobile_only=False)
            except phones.InvalidPhone as exc:
                self.errors["phone"] = str(exc)
        days = self.link_days.strip()
        if days and not (days.isdigit() and 1 <= int(days) <= LONGEST_CONSENT_LINK_DAYS):
            self.errors["link_days"] = (
                f"Enter a number of days from 1 to {LONGEST_CONSENT_LINK_DAYS}."
            )
        values["consent_link_days"] = int(days) if days and days.isdigit() else None
        values["provider_answers_keywords"] = {"yes": True, "no": False}.get(self.provider_answers)
        return None if self.errors else values


async def _page(request: Request, *, status_code: int = 200, **extra) -> Response:
    ctx = request.app.state.ctx
    async with ctx.db.read() as conn:
        organization = await org_rows.get(conn)
        current = await wording.current(conn)
        versions = await wording_rows.consent_versions(conn)
        replies = await reply_texts.current_texts(conn)
        reply_history = await wording_rows.reply_history(conn)
        changes = await staff_actions.recent(conn, action_prefix="settings.", limit=20)
    extra.setdefault("form", OrganizationForm.of(organization, ctx.settings))
    return render(
        request,
        "staff/settings/index.html",
        status_code=status_code,
        organization=organization,
        current_wording=current,
        code_wordings=wording.WORDINGS,
        code_wordings_es=wording.WORDINGS_ES,
        published_wordings=versions,
        replies=replies,
        reply_kinds=reply_texts.KINDS,
        languages=reply_texts.LANGUAGES,
        reply_history=reply_history,
        changes=[(change, json.loads(change.details)) for change in changes],
        default_link_days=ctx.settings.consent_link_days,
        default_provider_answers=ctx.settings.provider_answers_keywords,
        longest_link_days=LONGEST_CONSENT_LINK_DAYS,
        saved=request.query_params.get("saved"),
        **extra,
    )


def _saved(request: Request, what: str) -> RedirectResponse:
    path = request.app.url_path_for("staff.settings")
    return RedirectResponse(f"{path}?saved={what}", status_code=303)


@staff_required(role="admin")
async def settings(request: Request) -> Response:
    return await _page(request)


@staff_required(role="admin")
async def save_organization(request: Request) -> Response:
    form_data = await request.form()
    form = OrganizationForm(
        name=str(form_data.get("name", "")),
        email=str(form_data.get("email", "")),
        phone=str(form_data.get("phone", "")),
        link_days=str(form_data.get("link_days", "")),
        provider_answers=str(form_data.get("provider_answers", "default")),
    )
    values = form.clean()
    if values is None:
        return await _page(request, status_code=400, form=form)
    ctx = request.app.state.ctx
    now = to_db(ctx.now())
    async with ctx.db.write() as conn:
        before = await org_rows.get(conn)
        await org_rows.update(
            conn, name=values["name"], email=values["email"], phone=values["phone"], now=now
        )
        await org_rows.update_texting_rules(
            conn,
            consent_link_days=values["consent_link_days"],
            provider_answers_keywords=values["provider_answers_keywords"],
            now=now,
        )
        changed = {
            key: {"from": before[key], "to": value}
            for key, value in values.items()
            if before[key] != (int(value) if isinstance(value, bool) else value)
        }
        if changed:
            await staff_actions.record(
                conn,
                account_id=request.state.account.id,
                action="settings.organization",
                details=changed,
                ip=client_ip(request),
                now=now,
            )
    ctx.organization_name = values["name"]  # every page header, at once
    return _saved(request, "organization")


@staff_required(role="admin")
async def publish_wording(request: Request) -> Response:
    """A new consent wording version: what everyone asked from now on sees and agrees to."""
    form = await request.form()
    text = " ".join(str(form.get("text", "")).split())
    text_es = " ".join(str(form.get("text_es", "")).split())
    # Both languages or nothing: a Spanish reader must never be shown a version they cannot
    # read, and what they agree to must say the same as the English.
    problem = _wording_problem(text, "en")
    problem_es = _wording_problem(text_es, "es")
    if problem or problem_es:
        return await _page(
            request,
            status_code=400,
            wording_error=problem,
            wording_error_es=problem_es,
            wording_draft=text,
            wording_draft_es=text_es,
        )
    ctx = request.app.state.ctx
    now = ctx.now()
    async with ctx.db.write() as conn:
        taken = set(await wording.all_versions(conn))
        version = now.strftime("%Y-%m-%d-v1")
        while version in taken:
            stem, number = version.rsplit("-v", 1)
            version = f"{stem}-v{int(number) + 1}"
        await wording_rows.add_consent_version(
            conn,
            version=version,
            text=text,
            text_es=text_es,
            account_id=request.state.account.id,
            now=to_db(now),
        )
        await staff_actions.record(
            conn,
            account_id=request.state.account.id,
            action="settings.consent_wording",
            details={"version": version},
            ip=client_ip(request),
            now=to_db(now),
        )
    return _saved(request, "wording")


@staff_required(role="admin")
async def publish_reply(request: Request) -> Response:
    """A new version of one automatic reply text (STOP, START or HELP, in one language)."""
    form = await request.form()
    kind, language = str(form.get("kind", "")), str(form.get("language", ""))
    text = " ".join(str(form.get("text", "")).split())
    if kind not in reply_texts.KINDS or language not in reply_texts.LANGUAGES:
        return await _page(request, status_code=400, reply_error="Choose a reply text to change.")
    problem = _template_problem(text, required=("{org}",), allowed=("{org}", "{contact}"))
    if kind == "opt_out" and "START" not in text.upper():
        problem = problem or "The STOP reply must say how to come back: Reply START."
    if kind in ("opt_in", "opt_in_again", "help") and "STOP" not in text.upper():
        problem = problem or "This reply must say how to stop: Reply STOP."
    if kind in ("opt_in", "opt_in_again"):
        problem = problem or _disclosure_problem(text, language)
    if problem:
        return await _page(request, status_code=400, reply_error=problem, reply_kind=kind)
    ctx = request.app.state.ctx
    now = to_db(ctx.now())
    async with ctx.db.write() as conn:
        version = await wording_rows.add_reply_version(
            conn,
            kind=kind,
            language=language,
            text=text,
            account_id=request.state.account.id,
            now=now,
        )
        await staff_actions.record(
            conn,
            account_id=request.state.account.id,
            action="settings.reply_text",
            details={"kind": kind, "language": language, "version": version},
            ip=client_ip(request),
            now=now,
        )
    return _saved(request, "reply")


# What carriers require of the words people agree to and of the opt-in confirmation (CTIA):
# how to stop, how to get help, and that rates may apply. Each in the text's own language.
_DISCLOSURES = {
    "en": {
        "STOP": "how to stop (STOP)",
        "HELP": "how to get help (HELP)",
        "RATES": "that message and data rates may apply",
    },
    "es": {
        "STOP": "how to stop (STOP)",
        "AYUDA": "how to get help (AYUDA)",
        "TARIFAS": "that rates may apply (tarifas)",
    },
}


def _wording_problem(text: str, language: str) -> str | None:
    problem = _template_problem(text, required=("{org}",), allowed=("{org}", "{phone}"))
    return problem or _disclosure_problem(text, language)


def _disclosure_problem(text: str, language: str) -> str | None:
    missing = [words for key, words in _DISCLOSURES[language].items() if key not in text.upper()]
    return "Carriers require it to say " + ", ".join(missing) + "." if missing else None


def _template_problem(text: str, *, required: tuple, allowed: tuple) -> str | None:
    """Texts are filled in with str.format: only the named blanks may appear."""
    if not text:
        return "Write the text."
    if len(text) > MAX_TEXT:
        return f"Keep it under {MAX_TEXT} characters."
    if has_control_characters(text):
        return "The text cannot contain control characters or invisible formatting."
    blanks = {part.split("}", 1)[0] for part in text.split("{")[1:]}
    unknown = {"{" + blank + "}" for blank in blanks} - set(allowed)
    if unknown or text.count("{") != text.count("}"):
        return "Only these blanks may be used: " + ", ".join(allowed) + "."
    missing = [blank for blank in required if blank not in text]
    if missing:
        return "Include " + ", ".join(missing) + " so people know who is texting."
    return None
