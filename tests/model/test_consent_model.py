"""The real portal against a small model of the consent rules, in orders no one wrote down.

Hypothesis drives the app (portal saves, emailed links, reply keywords and their replays,
staff, an import, mass texts, clock jumps, the mail server going down) and after every step
checks that the database says what the model in consent_model.py says, and the invariants
of DESIGN.md section 2. `HYPOTHESIS_PROFILE=thorough` runs many more examples (README).
"""

from __future__ import annotations

import re

import pytest
from consent_link_steps import answer
from fake_twilio import FakeTwilio
from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from model import consent_model as cm
from model.portal_world import LINK_RE, PortalWorld, evidence_of
from staff_steps import wait_for_queueing
from twilio_steps import text_in

from portal.consent import commands, rules
from portal.db import people as people_rows
from portal.messaging.mailcatcher import MailCatcher
from portal.people import demo, texting_audience

NUMBERS = ["+12015550101", "+12015550102", "+12015550103", "+12015550111", "+12015550199"]
# Addresses each person's form may be given; nobody's list overlaps another's.
EMAILS = {
    "Pat": [demo.PARENT_EMAIL, "pat.parker@demo.example"],
    "Jordan": ["jordan@demo.example", "jordan.p@demo.example", None],
}
PARENT_EDITS = ["Pat", "Jordan", "Avery", "Sam"]  # whom the demo parent can edit
EVERYONE = ["Pat", "Jordan", "Avery", "Sam", "Morgan", "Casey"]
# Whom the office acts on: the Parker family, where the parent acts too, and a Lee with a phone
# (fewer choices, so Hypothesis finds deep sequences on one person sooner).
SUBJECTS = ["Pat", "Jordan", "Avery", "Sam", "Casey"]
SEND_TOKEN_RE = re.compile(r'name="send_token" value="([^"]+)"')
IMPORT_RE = re.compile(r'<form method="post" action="(/staff/import/files/\d+)"')


class PortalConsentMachine(RuleBasedStateMachine):
    def __init__(self, smtp: MailCatcher, twilio: FakeTwilio) -> None:
        super().__init__()
        self.smtp, self.twilio = smtp, twilio
        if not smtp_running(smtp):
            smtp.start()
        self.world = PortalWorld(smtp, twilio)
        self.portal = self.world.portal
        self.model = self._model_from_demo()
        self.texts_sent: list[dict] = []
        self.ledger = self.world.ledger()
        self.last_outbox = max([r.id for r in self.world.outbox_since(0)], default=0)
        self.sent = self.world.sent_texts_needing_consent()
        self.world.deliver()

    def teardown(self) -> None:
        self.world.close()
        if not smtp_running(self.smtp):
            self.smtp.start()  # the next example starts with its mail server up

    def _model_from_demo(self) -> cm.Model:
        self.ids: dict[str, int] = {}
        people = {}
        for name in EVERYONE:
            row = self.portal.call(self._person, self.portal.person_id(name))
            self.ids[name] = row.id
            last = self.portal.rows(
                "SELECT channel FROM consent_events WHERE person_id = :id ORDER BY id DESC",
                {"id": row.id},
            )
            people[name] = cm.Person(
                name=name,
                kind=row.kind,
                phone=row.cell_phone,
                email=row.email,
                email_confirmed=bool(row.email_confirmed),
                has_login=bool(row.has_login),
                status=row.status,
                consent_phone=row.consent_phone,
                version=row.consent_version,
                last_channel=last[0].channel if last else None,
            )
        return cm.Model(people=people, now=self.world.clock.now())

    async def _person(self, person_id: int):
        async with self.world.app.state.ctx.db.read() as conn:
            return await people_rows.by_id(conn, person_id)

    def as_parent(self):
        return self.world.become("parent", (self.model.people["Pat"].email, demo.PARENT_PASSWORD))

    def as_staff(self):
        return self.world.become("staff", (demo.STAFF_EMAIL, demo.STAFF_PASSWORD))

    # -- the parent's portal (rules 4 and 6) --------------------------------------------

    @initialize(ask_jordan=st.booleans())
    def maybe_the_parent_asks_jordan_first(self, ask_jordan):
        """Half the runs start with a CLICK HERE email on its way, so links get answered."""
        if ask_jordan:
            self.parent_switches_texting("Jordan", True)

    @rule(who=st.sampled_from(PARENT_EDITS), allow=st.booleans())
    def parent_switches_texting(self, who, allow):
        """The everyday save: only *Allow text messaging?* set, the details as they are."""
        p = self.model.people[who]
        self.parent_saves(who, allow, p.email, p.phone)

    @rule(
        who=st.sampled_from(PARENT_EDITS),
        allow=st.booleans(),
        email=st.sampled_from([None, 0, 1, 2]),
        phone=st.sampled_from([None, None, *NUMBERS, ""]),
    )
    def parent_edits_details(self, who, allow, email, phone):
        """A save that may change the address and the number too (None: left as it is)."""
        p = self.model.people[who]
        choices = EMAILS.get(who, [p.email])
        new_email = p.email if email is None else choices[email % len(choices)]
        new_phone = p.phone if phone is None else (phone or None)
        if who == "Pat" and new_phone is None:
            new_phone = p.phone  # the parent keeps a number; a removed one is Sam's case
        self.parent_saves(who, allow, new_email, new_phone)

    def parent_saves(self, who, allow, email, phone):
        form = {
            "first_name": who,
            "last_name": "Parker",
            "email": email or "",
            "cell_phone": phone or "",
        }
        if allow:
            form["allow_texting"] = "on"
        response = self.as_parent().post(edit_page(who, self.ids[who]), form)
        done = self.model.transaction(
            cm.portal_save, self.model, "Pat", who, allow=allow, email=email, phone=phone
        )
        event(f"parent save: {'saved' if done else 'refused'}")
        assert response.status_code == (200 if done else 400), response.text
        if done and who == "Pat":
            self.world.clock_moved()  # the login's address may have changed with it

    @rule(who=st.sampled_from(PARENT_EDITS), staff=st.booleans())
    def the_parent_or_the_office_opens_a_persons_page(self, who, staff):
        if staff:
            path, browser = f"/staff/people/{self.ids[who]}", self.as_staff()
        else:
            path, browser = edit_page(who, self.ids[who]), self.as_parent()
        self.get_changes_nothing(lambda: browser.client.get(path))

    # -- the emailed link ----------------------------------------------------------------

    def received_links(self) -> list[cm.Link]:
        return [link for link in self.model.links if link.url]

    @precondition(lambda self: self.received_links())
    @rule(data=st.data())
    def someone_opens_a_link(self, data):
        link = data.draw(st.sampled_from(self.received_links()))
        portal = self.world.become("link holder")
        response = self.get_changes_nothing(lambda: portal.client.get(link.url))
        assert response.status_code in (200, 400)

    @precondition(lambda self: self.received_links())
    @rule(data=st.data(), yes=st.booleans())
    def someone_answers_a_link(self, data, yes):
        link = data.draw(st.sampled_from(self.received_links()))
        portal = self.world.become("link holder")
        response = answer(portal, link.url, "yes" if yes else "no")
        outcome = self.model.transaction(cm.link_answer, self.model, link, yes)
        event(f"link answer: {outcome}")
        assert response.status_code < 500, response.text
        assert (outcome == "answered") == ("Thank you" in response.text), outcome

    @precondition(lambda self: self.received_links())
    @rule(data=st.data())
    def someone_asks_for_a_new_link(self, data):
        link = data.draw(st.sampled_from(self.received_links()))
        portal = self.world.become("link holder")
        response = portal.post(f"{link.url}/new-link", {}, token_from="/login")
        assert response.status_code == 200, response.text
        cm.new_link(self.model, link)

    # -- the handset (rules 5 and 8) -----------------------------------------------------

    @rule(phone=st.sampled_from(NUMBERS), word=st.sampled_from(["STOP", "START", "HELP"]))
    def a_phone_texts_a_keyword(self, phone, word):
        self.world.become("twilio")
        response = text_in(self.portal, word, from_number=phone)
        assert response.status_code == 200, response.text
        sid = re.search(r"SM[0-9a-f]{32}", str(response.request.content)).group(0)
        self.texts_sent.append({"phone": phone, "word": word, "sid": sid})
        cm.text_in(self.model, phone, word, sid)

    @precondition(lambda self: self.texts_sent)
    @rule(data=st.data())
    def twilio_delivers_a_text_again(self, data):
        sent = data.draw(st.sampled_from(self.texts_sent))
        self.world.become("twilio")
        response = text_in(self.portal, sent["word"], from_number=sent["phone"], sid=sent["sid"])
        assert response.status_code == 200, response.text
        cm.text_in(self.model, sent["phone"], sent["word"], sent["sid"])

    # -- the office ----------------------------------------------------------------------

    @rule(
        who=st.sampled_from(SUBJECTS),
        action=st.sampled_from(
            ["opt_out", "opt_out_tell", "opt_in", "opt_in_no_evidence", "block", "unblock"]
        ),
    )
    def staff_save_a_persons_page(self, who, action):
        """*Text Opt-In* or *Block Contact* moved, then *Save Changes*."""
        if action in ("block", "unblock"):
            self.staff_block_or_unblock(who, action == "block")
            return
        p = self.model.people[who]
        opt_in = action.startswith("opt_in")
        evidence = action == "opt_in"
        form = {"note": "paper form on file" if evidence else "", "evidence_type": ""}
        if evidence:
            form["evidence_type"] = "paper_form"
        if opt_in:
            form["text_opt_in"] = "on"
        if self.model.switch_on(p):
            form["text_opt_in_was"] = "on"
        if p.blocked:
            form["block"] = form["block_was"] = "on"
        if action == "opt_out_tell":
            form["tell_by_text"] = "on"
        response = self.as_staff().post(f"/staff/people/{self.ids[who]}", form)
        done = self.model.transaction(
            cm.staff_save,
            self.model,
            who,
            opt_in=opt_in,
            evidence=evidence,
            tell=action == "opt_out_tell",
        )
        assert response.status_code == (200 if done is not None else 400), response.text

    def staff_block_or_unblock(self, who, blocked):
        p = self.model.people[who]
        form = {"note": "asked us to", "evidence_type": ""}
        if self.model.switch_on(p):
            form["text_opt_in"] = form["text_opt_in_was"] = "on"
        if blocked:
            form["block"] = "on"
        if p.blocked:
            form["block_was"] = "on"
        response = self.as_staff().post(f"/staff/people/{self.ids[who]}", form)
        assert response.status_code == 200, response.text
        cm.staff_block(self.model, who, blocked)

    @rule(who=st.sampled_from(SUBJECTS))
    def staff_send_the_click_here_request(self, who):
        response = self.as_staff().post(f"/staff/people/{self.ids[who]}/request", {})
        assert response.status_code == 200, response.text
        cm.staff_request(self.model, who)

    @rule(
        who=st.sampled_from(SUBJECTS),
        texting=st.sampled_from(["yes", "no", ""]),
        phone=st.sampled_from([None, None, *NUMBERS]),
    )
    def staff_import_a_roster_row(self, who, texting, phone):
        """A row for someone already here, with their number (None) or another one."""
        p = self.model.people[who]
        phone = phone or p.phone
        if not phone:
            return
        family = "Lee" if who in ("Morgan", "Casey") else "Parker"
        note = "paper form 2026" if texting == "yes" else ""
        csv = (
            "family,kind,first_name,last_name,email,cell_phone,texting,consent_note\n"
            f"{family},{p.kind},{who},{family},,{phone},{texting},{note}\n"
        )
        staff = self.as_staff()
        token = staff.csrf("/staff/import")
        review = staff.client.post(
            "/staff/import",
            data={"csrf_token": token},
            files={"file": ("roster.csv", csv.encode(), "text/csv")},
        )
        start = IMPORT_RE.search(review.text)
        done = self.model.transaction(cm.import_row, self.model, who, texting, phone)
        assert (start is not None) == (done is not None), review.text
        if start:
            job = staff.post(start.group(1), {}, token_from=review.url.path)
            job_id = int(job.url.path.rsplit("/", 1)[1])
            staff.call(self.world.app.state.import_runner.wait, job_id)

    @rule(urgent=st.booleans())
    def staff_send_a_mass_text(self, urgent):
        staff = self.as_staff()
        form = {"body": "Hello {first_name}, class is on. {organization}"}
        if urgent:
            form["urgent"] = "on"
        page = staff.post("/staff/messages/preview", form, token_from="/staff/messages")
        token = SEND_TOKEN_RE.search(page.text)
        recipients = cm.mass_text_recipients(self.model)
        if token is None:
            assert not recipients, page.text
            return
        form["send_token"] = token.group(1)
        response = staff.post("/staff/messages/send", form, token_from="/staff/messages")
        assert response.status_code == 200, response.text
        wait_for_queueing(staff)
        self.model.messages.extend(("mass_text", phone) for phone in recipients)

    # -- time and the mail server --------------------------------------------------------

    @rule(hours=st.sampled_from([1, 25, 15 * 24]))
    def time_passes(self, hours):
        self.model.now = self.world.clock.advance(hours=hours)
        self.world.clock_moved()

    @rule(up=st.booleans())
    def the_mail_server_goes_down_or_comes_back(self, up):
        if up and not smtp_running(self.smtp):
            self.smtp.start()
        elif not up and smtp_running(self.smtp):
            self.smtp.stop()

    # -- the invariants ------------------------------------------------------------------

    def get_changes_nothing(self, get):
        """Mail scanners open every link and prefetchers every page: a GET changes nothing."""
        before = self.world.snapshot()
        response = get()
        assert self.world.snapshot() == before
        return response

    @invariant()
    def the_portal_agrees_with_the_model(self):
        wait_for_queueing(self.portal)
        self.check_messages()
        self.check_ledger()
        self.check_state()
        self.check_delivery()
        self.check_stopped_numbers_are_never_texted()
        self.model.begin()

    def check_messages(self):
        """Every committed change has the messages it owes, and nothing else (rule 8)."""
        new = self.world.outbox_since(self.last_outbox)
        got = sorted((r.template, r.recipient) for r in new)
        assert got == sorted(self.model.messages)
        for row in new:
            if row.template == "consent_request":
                [link] = [
                    link
                    for link in self.model.links
                    if link.message_id is None
                    and self.model.people[link.person].email == row.recipient
                ]
                link.message_id = row.message_id
        self.last_outbox = max([r.id for r in new], default=self.last_outbox)

    def check_ledger(self):
        """Only appended; each event the model expects; no adult opted in but by their own act."""
        ledger = self.world.ledger()
        assert ledger[: len(self.ledger)] == self.ledger
        new = ledger[len(self.ledger) :]
        names = {pid: name for name, pid in self.ids.items()}
        person_events = sorted(
            (names[dict(e)["person_id"]], dict(e)["new_status"], dict(e)["channel"])
            for e in new
            if dict(e)["person_id"] is not None
        )
        assert person_events == sorted(self.model.events)
        for row in map(dict, new):
            if row["new_status"] != "opted_in" or row["person_id"] is None:
                continue
            if self.model.people[names[row["person_id"]]].kind == "contact":
                assert own_act(row), row
        self.ledger = ledger

    def check_state(self):
        suppressed = {
            r.phone
            for r in self.portal.rows("SELECT phone FROM phone_suppressions WHERE active = 1")
        }
        assert suppressed == self.model.suppressed
        for name, p in self.model.people.items():
            row = self.portal.call(self._person, self.ids[name])
            assert (
                row.cell_phone,
                row.email,
                bool(row.email_confirmed),
                bool(row.blocked),
                row.status,
                row.consent_phone,
                row.consent_version,
                rules.texting_status(row).code,
            ) == (
                p.phone,
                p.email,
                p.email_confirmed,
                p.blocked,
                p.status,
                p.consent_phone,
                p.version,
                self.model.code(p),
            ), name

    def check_delivery(self):
        """Deliver what is due; a text that needs consent went only to whom the model allows
        now (rule 2 at send time); the CLICK HERE emails bring their links."""
        for mail in self.world.deliver():
            for link in self.model.links:
                if link.message_id and link.message_id.strip("<>") == mail.message_id.strip("<>"):
                    link.url = LINK_RE.search(mail.text).group(1)
        sent = self.world.sent_texts_needing_consent()
        names = {pid: name for name, pid in self.ids.items()}
        for _, phone, person_id in sent - self.sent:
            assert phone not in self.model.suppressed
            assert self.model.may_text(self.model.people[names[person_id]])
        self.sent = sent

    def check_stopped_numbers_are_never_texted(self):
        async def check(conn):
            for name, p in self.model.people.items():
                allowed = await commands.may_text(conn, self.ids[name])
                assert allowed == self.model.may_text(p), name
            preview = await texting_audience.preview(conn, texting_audience.Audience())
            phones = {r.cell_phone for r in preview.recipients}
            assert not phones & self.model.suppressed
            assert sorted(phones) == cm.mass_text_recipients(self.model)

        async def run():
            async with self.world.app.state.ctx.db.read() as conn:
                await check(conn)

        self.portal.call(run)


def edit_page(who: str, person_id: int) -> str:
    if who == "Pat":
        return "/account/settings/edit"
    return f"/account/{'contacts' if who == 'Jordan' else 'students'}/{person_id}/edit"


def own_act(event: dict) -> bool:
    """An adult is opted in only by their own act, or by staff who recorded their agreement."""
    channel, evidence = event["channel"], evidence_of(tuple(event.items()))
    if channel == "portal":
        return event["actor_person_id"] == event["person_id"]
    if channel == "email_link":
        return event["actor_kind"] == "link" and bool(evidence.get("sent_to"))
    if channel == "sms_keyword":
        return event["actor_kind"] == "handset"
    if channel in ("staff", "import", "correction"):
        return bool(str(evidence.get("note", "")).strip())
    return False


def smtp_running(smtp: MailCatcher) -> bool:
    return smtp._controller is not None


@pytest.fixture
def own_smtp():
    """A mail server of this test's own, which the test stops and starts again."""
    server = MailCatcher()
    yield server
    server.stop()


def test_the_portal_keeps_the_consent_rules_whatever_happens_in_any_order(own_smtp, twilio):
    run_state_machine_as_test(lambda: PortalConsentMachine(own_smtp, twilio))
