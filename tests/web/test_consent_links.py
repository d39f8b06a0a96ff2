"""The emailed consent link: GET shows, POST answers once, every other case changes nothing."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from consent_link_steps import LINK_RE, answer, consent_events, request_link_for_jordan, status_of

from portal import links
from portal.consent import commands, rules, wording
from portal.db import Conn


def test_the_request_email_says_who_asks_what_for_and_how_to_stop(parent):
    parent.save_person("Jordan", allow_texting=True)
    [mail] = [m for m in parent.deliver() if m.to == ["jordan@demo.example"]]
    assert mail.subject == "Riverside Dance Academy would like to send you text messages"
    assert "•••-•••-0102" in mail.text and "2015550102" not in mail.text
    assert "CLICK HERE" in mail.text and "CLICK HERE" in mail.html
    assert "Message and data rates may apply" in mail.text
    assert "Reply STOP" in mail.text


def test_get_and_head_three_times_change_nothing(parent):
    path = request_link_for_jordan(parent)
    before = (consent_events(parent), parent.rows("SELECT used_at FROM links"))
    for _ in range(3):
        page = parent.client.get(path)
        assert page.status_code == 200
        assert parent.client.head(path).status_code == 200
    assert (consent_events(parent), parent.rows("SELECT used_at FROM links")) == before
    assert status_of(parent, "Jordan") == "pending"
    assert parent.deliver() == []


def test_the_page_shows_first_name_masked_number_wording_and_two_buttons_and_nothing_else(parent):
    path = request_link_for_jordan(parent)
    page = parent.client.get(path)
    assert "Hi Jordan" in page.text
    assert "•••-•••-0102" in page.text and "555-0102" not in page.text
    assert "Yes, Send Me Text Messages" in page.text
    assert "No, Do Not Send Me Text Messages" in page.text
    assert "Message and data rates may apply" in page.text
    for private in ("Pat", "Avery", "jordan@demo.example", "Parker"):
        assert private not in page.text
    assert page.headers["cache-control"] == "no-store"
    # The token never leaves the site, yet the browser still names our origin when it posts
    # the form: under "no-referrer" it would send `Origin: null`, and the answer be refused.
    assert page.headers["referrer-policy"] == "same-origin"


def test_a_browser_posting_the_answer_with_our_origin_is_answered(parent):
    path = request_link_for_jordan(parent)
    token = parent.csrf("/login")
    response = parent.client.post(
        path,
        data={"answer": "yes", "csrf_token": token},
        headers={"Origin": "http://portal.test", "Referer": "http://portal.test" + path},
    )
    assert response.status_code == 200 and status_of(parent, "Jordan") == "opted_in"


def test_yes_opts_in_records_the_link_and_emails_the_person_and_the_office(parent):
    path = request_link_for_jordan(parent)
    response = answer(parent, path, "yes")
    assert response.status_code == 200
    assert "You will receive text messages" in response.text
    assert status_of(parent, "Jordan") == "opted_in"
    [event] = parent.rows(
        "SELECT channel, evidence, wording_version, ip, user_agent, actor_label"
        " FROM consent_events ORDER BY id DESC LIMIT 1"
    )
    assert event.channel == "email_link"
    assert '"link_id"' in event.evidence
    assert event.wording_version == wording.CURRENT_WORDING
    assert event.user_agent and event.actor_label.startswith("Jordan Parker")
    mails = parent.deliver()
    assert sorted(m.to[0] for m in mails) == ["jordan@demo.example", "office@demo.example"]


def test_no_opts_out_and_both_confirmations_go_out(parent):
    path = request_link_for_jordan(parent)
    response = answer(parent, path, "no")
    assert "will not send you text messages" in response.text
    assert status_of(parent, "Jordan") == "opted_out"
    mails = {m.to[0]: m for m in parent.deliver()}
    assert "chose not to receive" in mails["jordan@demo.example"].text
    assert "No, Do Not Send Me Text Messages" in mails["office@demo.example"].text


def test_a_second_answer_with_the_same_link_is_refused_kindly_and_changes_nothing(parent):
    path = request_link_for_jordan(parent)
    answer(parent, path, "yes")
    parent.deliver()
    events = consent_events(parent)
    again = answer(parent, path, "no")
    assert "Your answer is already recorded" in again.text
    assert "Yes, Send Me Text Messages" in again.text
    assert status_of(parent, "Jordan") == "opted_in"
    assert consent_events(parent) == events
    assert parent.deliver() == []


def test_a_link_made_stale_by_a_later_change_offers_a_new_link_and_changes_nothing(parent):
    path = request_link_for_jordan(parent)
    parent.login()
    jordan = parent.person_id("Jordan")
    parent.post(  # the parent turns it off again: the emailed link is now out of date
        f"/account/contacts/{jordan}/edit",
        {
            "first_name": "Jordan",
            "last_name": "Parker",
            "email": "jordan@demo.example",
            "cell_phone": "(201) 555-0102",
        },
    )
    parent.deliver()
    parent.client.cookies.clear()
    events = consent_events(parent)
    page = parent.client.get(path)
    assert "This link is out of date" in page.text and "Email me a new link" in page.text
    response = answer(parent, path, "yes")
    assert "This link is out of date" in response.text
    assert status_of(parent, "Jordan") == "opted_out"
    assert consent_events(parent) == events


def test_a_link_works_at_exactly_its_lifetime_and_expires_one_second_after(parent, clock):
    path = request_link_for_jordan(parent)
    clock.advance(days=14, seconds=-1)
    assert "Yes, Send Me Text Messages" in parent.client.get(path).text
    clock.advance(seconds=1)
    assert "Yes, Send Me Text Messages" in parent.client.get(path).text
    clock.advance(seconds=1)
    page = parent.client.get(path)
    assert "This link has expired" in page.text and "Email me a new link" in page.text
    events = consent_events(parent)
    assert "This link has expired" in answer(parent, path, "yes").text
    assert consent_events(parent) == events


@pytest.mark.parametrize("damage", [lambda p: p[:-3], lambda p: p + "x", lambda p: p[:25]])
def test_a_tampered_or_truncated_link_changes_nothing(parent, damage):
    path = request_link_for_jordan(parent)
    events = consent_events(parent)
    assert "This link does not work" in parent.client.get(damage(path)).text
    assert "This link does not work" in answer(parent, damage(path), "yes").text
    assert consent_events(parent) == events
    assert status_of(parent, "Jordan") == "pending"


def test_a_password_reset_token_does_not_work_as_a_consent_link(portal):
    def issue_reset():
        async def work():
            async with portal.ctx.db.write() as conn:
                return await portal.ctx.reset_links.issue(conn, account_id=1)

        return portal.call(work)

    token = issue_reset().token
    page = portal.client.get(f"/text-consent/{token}")
    assert "This link does not work" in page.text
    assert "This link does not work" in answer(portal, f"/text-consent/{token}", "yes").text


def test_a_person_id_smuggled_into_the_form_is_ignored(parent):
    path = request_link_for_jordan(parent)
    avery = parent.person_id("Avery")
    answer(parent, path, "no", person_id=str(avery))
    assert status_of(parent, "Jordan") == "opted_out"
    assert status_of(parent, "Avery") == "opted_in"


def test_yes_from_a_number_that_replied_stop_does_not_lift_it(parent):
    path = request_link_for_jordan(parent)

    async def stop():
        async with parent.ctx.db.write() as conn:
            await commands.suppress_number(
                conn,
                parent.ctx,
                phone="+12015550102",
                channel=rules.Channel.SMS_KEYWORD,
                actor=rules.Actor(kind="handset", label="+12015550102"),
                evidence={"body": "STOP"},
            )

    request_version = parent.rows("SELECT consent_version FROM links")[0].consent_version
    parent.call(stop)
    assert request_version is not None
    events = consent_events(parent)
    # The STOP itself made the link stale: the page says what can help (START), not "new link".
    assert "Text START to (201) 555-0100" in parent.client.get(path).text
    response = answer(parent, path, "yes")
    assert "Text START to (201) 555-0100" in response.text
    assert consent_events(parent) == events

    jordan = parent.person_id("Jordan")
    version = parent.rows("SELECT version FROM consent_state WHERE person_id = :p", {"p": jordan})[
        0
    ].version

    async def fresh_link():
        async with parent.ctx.db.write() as conn:
            return await parent.ctx.consent_links.issue(
                conn, person_id=jordan, phone="+12015550102", consent_version=version
            )

    token = parent.call(fresh_link).token
    response = answer(parent, f"/text-consent/{token}", "yes")
    assert response.status_code == 409
    assert "Text START to (201) 555-0100" in response.text
    assert status_of(parent, "Jordan") == "opted_out"
    assert consent_events(parent) == events


def test_email_me_a_new_link_goes_only_to_the_address_on_file_and_is_rate_limited(parent, clock):
    path = request_link_for_jordan(parent)
    clock.advance(days=15)
    for _ in range(4):
        response = parent.post(
            f"{path}/new-link", {"email": "attacker@evil.example"}, token_from=path
        )
        assert "a new link is on its way" in response.text
    mails = parent.deliver()
    assert [m.to for m in mails] == [["jordan@demo.example"]] * 3  # then the limit holds
    new_path = LINK_RE.search(mails[0].text).group(1)
    assert "Yes, Send Me Text Messages" in parent.client.get(new_path).text
    clock.advance(hours=1, seconds=1)
    parent.post(f"{path}/new-link", {}, token_from=path)
    assert len(parent.deliver()) == 1


def test_a_yes_from_someone_blocked_since_the_link_was_sent_says_why_and_changes_nothing(parent):
    """Found by the model-based test: a refusal other than a STOP was a server error."""
    path = request_link_for_jordan(parent)
    answer(parent, path, "no")
    parent.post(f"{path}/new-link", {}, token_from="/login")  # a fresh link, while opted out
    [fresh] = [m.group(1) for mail in parent.deliver() if (m := LINK_RE.search(mail.text))]
    jordan = parent.person_id("Jordan")
    office = rules.Actor(kind="staff", label="office")

    async def block():
        async with parent.ctx.db.write() as conn:
            await commands.block(conn, parent.ctx, person_id=jordan, actor=office)

    parent.call(block)  # already opted out, so the block leaves the fresh link current
    events = consent_events(parent)
    response = answer(parent, fresh, "yes")
    assert response.status_code == 409
    assert "The organization has blocked texting to this person." in response.text
    assert consent_events(parent) == events and status_of(parent, "Jordan") == "opted_out"
    assert len(parent.rows("SELECT id FROM links WHERE used_at IS NOT NULL")) == 1


def test_hostile_names_are_escaped_on_the_page_and_in_the_html_email(parent):
    jordan = parent.person_id("Jordan")
    hostile = "<script>alert(1)</script>"
    parent.post(
        f"/account/contacts/{jordan}/edit",
        {
            "first_name": hostile,
            "last_name": '"><img src=x onerror=alert(1)>',
            "email": "jordan@demo.example",
            "cell_phone": "(201) 555-0102",
            "allow_texting": "on",
        },
    )
    [mail] = [m for m in parent.deliver() if m.to == ["jordan@demo.example"]]
    assert "<script>" not in mail.html and "&lt;script&gt;" in mail.html
    parent.client.cookies.clear()
    page = parent.client.get(LINK_RE.search(mail.text).group(1))
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;" in page.text


def test_the_consent_page_costs_one_query(parent, monkeypatch):
    path = request_link_for_jordan(parent)
    counted = []
    for name in ("fetch_one", "fetch_all", "fetch_val", "execute"):
        original = getattr(Conn, name)

        def counting(self, *args, _original=original, **kwargs):
            counted.append(args[0])
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(Conn, name, counting)
    assert parent.client.get(path).status_code == 200
    assert len(counted) == 1, counted


def test_the_link_service_of_another_purpose_rejects_a_consent_token(parent):
    path = request_link_for_jordan(parent)
    token = path.rsplit("/", 1)[1]
    with pytest.raises(links.LinkInvalid):
        parent.ctx.reset_links.link_id_of(token)


def test_the_page_speaks_to_the_person_about_their_own_status(parent):
    path = request_link_for_jordan(parent)
    assert "Right now: we are waiting for your answer." in parent.client.get(path).text


def test_two_answers_racing_on_one_link_record_exactly_one(parent):
    path = request_link_for_jordan(parent)
    token = parent.csrf("/login")
    cookies = dict(parent.client.cookies)

    async def both():
        transport = httpx.ASGITransport(app=parent.app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://portal.test", cookies=cookies
        ) as client:
            return await asyncio.gather(
                *(
                    client.post(path, data={"answer": value, "csrf_token": token})
                    for value in ("yes", "no")
                )
            )

    texts = [page.text for page in parent.call(both)]
    assert sum("Thank you, Jordan" in t for t in texts) == 1
    assert sum("Your answer is already recorded" in t for t in texts) == 1
    events = parent.rows("SELECT COUNT(*) AS n FROM consent_events WHERE channel = 'email_link'")
    assert events[0].n == 1
