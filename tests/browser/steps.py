"""What a person does in the browser, in words a test reads: log in, open a new context at a
phone or desktop width, wait for mail in /dev/mailbox or a text on /dev/phone."""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from portal.people import demo

PHONE = {"width": 360, "height": 800}
DESKTOP = {"width": 1280, "height": 800}
LOGINS = {
    "parent": (demo.PARENT_EMAIL, demo.PARENT_PASSWORD),
    "staff": (demo.STAFF_EMAIL, demo.STAFF_PASSWORD),
}
ALLOW_TEXTING = "Allow text messaging?"
# How long mail or a text may take to arrive: the dispatcher in `portal serve` delivers it
# when it wakes. A wait for arrival, not a timing assertion: arriving sooner is what we expect.
ARRIVAL_SECONDS = 30


def new_page(browser, viewport=PHONE, **options):
    """A fresh browser (its own cookies) at `viewport`, in English."""
    context = browser.new_context(viewport=viewport, locale="en-US", bypass_csp=True, **options)
    return context.new_page()


def log_in(page, base_url: str, who: str) -> None:
    email, password = LOGINS[who]
    page.goto(base_url + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def _reload_until(page, url: str, arrived, what: str) -> None:
    deadline = time.monotonic() + ARRIVAL_SECONDS
    while True:
        page.goto(url)
        if arrived():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} never arrived at {url}")
        page.wait_for_timeout(200)


def open_mail(page, base_url: str, subject: str | re.Pattern):
    """Open /dev/mailbox until an email with `subject` is there; its card, newest first."""
    mail = page.locator("article.mail").filter(
        has=page.get_by_role("heading", name=subject, exact=True)
    )
    _reload_until(page, base_url + "/dev/mailbox", lambda: mail.count() > 0, f"mail {subject!r}")
    return mail.first


def open_phone(page, base_url: str, number: str, text: str):
    """Open /dev/phone until the thread of `number` (as shown, "(201) 555-0101") holds `text`."""
    thread = page.locator("article").filter(
        has=page.get_by_role("heading", name=number, exact=True)
    )
    _reload_until(
        page,
        base_url + "/dev/phone",
        lambda: thread.filter(has_text=text).count() > 0,
        f"the text {text!r} to {number}",
    )
    return thread


def text_the_portal(page, base_url: str, number: str, body: str) -> None:
    """Send a text to the organization from `number`, through /dev/phone."""
    page.goto(base_url + "/dev/phone")
    page.get_by_label("From number").fill(number)
    page.get_by_label("Message to").fill(body)
    page.get_by_role("button", name="Send text").click()
    expect(page.get_by_role("status")).to_have_text("Sent.")


def switch_texting(page, on: bool) -> None:
    """On an edit page: the switch, its state before, set it, Save."""
    switch = page.get_by_role("switch", name=ALLOW_TEXTING)
    expect(switch).to_be_checked(checked=not on)
    switch.set_checked(on)
    page.get_by_role("button", name="Save").click()


def ask_jordan_by_email(page, base_url: str) -> None:
    """The parent switches texting on for Jordan, the family's other contact: Jordan is asked
    by email before any text."""
    log_in(page, base_url, "parent")
    page.get_by_role("link", name="Contacts").click()
    page.get_by_role("link", name="Edit Jordan Parker").click()
    switch_texting(page, on=True)
    expect(page.get_by_text("Waiting for Jordan to confirm")).to_be_visible()


def click_here(page, base_url: str, organization: str = "Riverside Dance Academy") -> str:
    """Open the CLICK HERE request in /dev/mailbox and follow its link; the link."""
    mail = open_mail(page, base_url, f"{organization} would like to send you text messages")
    link = mail.locator("a[href*='/text-consent/']").first
    href = link.get_attribute("href")
    page.goto(href)
    return href
