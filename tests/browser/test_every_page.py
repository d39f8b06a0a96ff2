"""Every page a parent, a contact, staff and the public see, in each language, at a desktop and
a phone width: axe, no sideways scroll, 44-pixel targets, a screenshot; and with JavaScript off,
each still renders and its main form still submits."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from browser.page_checks import page_problems, screenshot
from browser.served_portal import ServedPortal, copy_database, portal_command
from browser.steps import log_in

# Adding a language here walks every page in it too (the browser asks for it by
# Accept-Language, as a person's browser does).
LANGUAGES = ["en", "es"]
WIDTHS = [1280, 360]
CONSENT_LINK = "the CLICK HERE link from /dev/mailbox"


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    who: str | None = None  # logged in as "parent" or "staff"; None: nobody
    status: int = 200
    # The button of the page's main form that is pressed with JavaScript off, when pressing it
    # changes nothing another page shows (the flows submit the forms that do).
    submit: str | None = None


MAIN_SUBMIT = "main form[method=post] button[type=submit]"
SEARCH_SUBMIT = "main form[method=get] button[type=submit]"

# The demo organization's ids are the same in every fresh demo database: Pat 1, Jordan 2 (the
# second contact), Avery 3 (a student), the Parker family 1.
PAGES = [
    Page("login", "/login", submit=MAIN_SUBMIT),
    Page("forgot-password", "/forgot-password", submit=MAIN_SUBMIT),
    Page("reset-password-bad-link", "/reset-password/not-a-real-link", status=400),
    Page("invite-bad-link", "/invite/not-a-real-link", status=400),
    Page("not-found", "/no-such-page", status=404),
    Page("consent-link", CONSENT_LINK),
    Page("consent-link-bad", "/text-consent/not-a-real-link", status=400),
    Page("dev-mailbox", "/dev/mailbox"),
    Page("dev-phone", "/dev/phone"),
    Page("parent-settings", "/account/settings", "parent"),
    Page("parent-settings-edit", "/account/settings/edit", "parent", submit=MAIN_SUBMIT),
    Page("parent-password", "/account/password", "parent", submit=MAIN_SUBMIT),
    Page("parent-contacts", "/account/contacts", "parent"),
    Page("parent-contact-edit", "/account/contacts/2/edit", "parent", submit=MAIN_SUBMIT),
    Page("parent-students", "/account/students", "parent"),
    Page("parent-student", "/account/students/3", "parent"),
    Page("parent-student-edit", "/account/students/3/edit", "parent", submit=MAIN_SUBMIT),
    Page("parent-logout", "/logout", "parent"),
    Page("staff-dashboard", "/staff/", "staff"),
    Page("staff-people", "/staff/people", "staff", submit=SEARCH_SUBMIT),
    Page("staff-people-search", "/staff/people?q=ave", "staff"),
    Page("staff-person", "/staff/people/3", "staff"),
    Page("staff-families", "/staff/families", "staff"),
    Page("staff-family", "/staff/families/1", "staff"),
    Page("staff-family-add", "/staff/families/1/add?kind=contact", "staff"),
    Page("staff-family-person", "/staff/families/1/people/2", "staff"),
    Page("staff-requests", "/staff/requests", "staff"),
    Page("staff-import", "/staff/import", "staff"),
    Page("staff-proof", "/staff/proof", "staff"),
    Page("staff-proof-number", "/staff/proof/numbers/+12015550101", "staff"),
    Page("staff-alerts", "/staff/alerts", "staff"),
    Page("staff-settings", "/staff/settings", "staff"),
    Page("staff-logins", "/staff/accounts", "staff"),
    Page("staff-messages", "/staff/messages", "staff", submit=MAIN_SUBMIT),
    Page("staff-conversations", "/staff/messages/conversations", "staff"),
    Page("staff-conversation", "/staff/messages/conversations/+12015550101", "staff"),
    Page("staff-metrics", "/staff/messages/metrics", "staff"),
    Page("staff-templates", "/staff/messages/templates", "staff"),
    Page("staff-lists", "/staff/lists", "staff"),
]


@pytest.fixture(scope="module")
def walk_portal(demo_template, tmp_path_factory):
    """One demo portal for the whole walk (its pages are only looked at), with a CLICK HERE
    email waiting in its mailbox for everyone never asked, as `portal request-consent` sends."""
    database = copy_database(demo_template, tmp_path_factory.mktemp("walk"))
    portal_command(database, "request-consent", "--all-unanswered")
    served = ServedPortal(database).start()
    yield served
    served.stop()


@pytest.fixture(scope="module")
def logins(browser, walk_portal) -> dict:
    """Each role logged in once; every page's context starts from that saved login."""
    states = {None: None}
    for who in ("parent", "staff"):
        context = browser.new_context()
        log_in(context.new_page(), walk_portal.url, who)
        states[who] = context.storage_state()
        context.close()
    return states


@pytest.fixture(scope="module")
def consent_link(browser, walk_portal) -> str:
    context = browser.new_context()
    page = context.new_page()
    page.goto(walk_portal.url + "/dev/mailbox")
    link = page.locator("a[href*='/text-consent/']").first.get_attribute("href")
    context.close()
    assert link, "no CLICK HERE email in /dev/mailbox"
    # The command line queued it before the server had a port, so its link names the default
    # address; the path (the token) is what the contact's browser opens.
    return urlsplit(link).path


@pytest.fixture(scope="module")
def tabs(browser, logins):
    """One browser tab per role, width, language and JavaScript setting, reused page to page:
    a new context per page would double the walk's time."""
    opened = {}

    def tab(who: str | None, lang: str, width: int, javascript: bool = True):
        key = (who, lang, width, javascript)
        if key not in opened:
            context = browser.new_context(
                storage_state=logins[who],
                viewport={"width": width, "height": 800},
                locale=lang,
                extra_http_headers={"Accept-Language": lang},
                java_script_enabled=javascript,
                # The portal's Content-Security-Policy allows no inline script; axe is one.
                bypass_csp=True,
            )
            opened[key] = context.new_page()
        return opened[key]

    yield tab
    for page in opened.values():
        page.context.close()


def visit(page, walk_portal, consent_link: str, spec: Page):
    path = consent_link if spec.path == CONSENT_LINK else spec.path
    response = page.goto(walk_portal.url + path)
    assert response.status == spec.status, f"{spec.path} answered {response.status}"
    assert "/login" not in page.url or spec.who is None, f"{spec.path} sent {spec.who} to log in"
    return response


def fill_required(page) -> None:
    """Type something into each empty required field, as a person must before the browser
    lets the form go."""
    for field in page.locator("main form input[required]:visible").all():
        if not field.input_value():
            kind = field.get_attribute("type") or "text"
            field.fill({"email": "nobody@demo.example", "tel": "(201) 555-0199"}.get(kind, "x"))


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("spec", PAGES, ids=lambda spec: spec.name)
def test_page_is_accessible_fits_the_width_and_has_big_enough_targets(
    tabs, walk_portal, consent_link, axe_script, screenshots, spec, width, lang
):
    page = tabs(spec.who, lang, width)
    visit(page, walk_portal, consent_link, spec)
    screenshot(page, screenshots, lang, width, spec.name)
    problems = page_problems(page, axe_script)
    assert not problems, f"{spec.name} at {width} px:\n" + "\n".join(problems)


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("spec", PAGES, ids=lambda spec: spec.name)
def test_page_renders_and_its_main_form_submits_without_javascript(
    tabs, walk_portal, consent_link, spec, lang
):
    page = tabs(spec.who, lang, 1280, javascript=False)
    visit(page, walk_portal, consent_link, spec)
    assert page.locator("main h1").first.is_visible(), f"{spec.name} shows no heading"
    if spec.submit:
        fill_required(page)
        with page.expect_navigation() as answered:
            page.locator(spec.submit).first.click()
        status = answered.value.status
        # The server took the form (a 400 is its clear error about what was typed); a 403
        # would be a refused CSRF token, a 5xx a crash.
        assert status < 500 and status != 403, f"{spec.name}: its form got {status}"
        assert page.locator("main h1").first.is_visible()
