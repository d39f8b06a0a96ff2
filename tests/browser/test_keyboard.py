"""Keyboard alone: a parent switches texting off and saves, and a contact answers the emailed
link, with Tab, Space and Enter only; the switch is announced with its label and state."""

from __future__ import annotations

from browser.steps import (
    ALLOW_TEXTING,
    LOGINS,
    PHONE,
    ask_jordan_by_email,
    new_page,
    open_mail,
)
from playwright.sync_api import expect

MOST_TABS = 40


def tab_to(page, target) -> None:
    """Press Tab until `target` has the focus, as a keyboard user moves through a page."""
    for _ in range(MOST_TABS):
        if target.evaluate("el => el === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{MOST_TABS} presses of Tab never reached {target}")


def test_a_parent_switches_their_texting_off_with_the_keyboard_alone(browser, portal):
    page = new_page(browser, PHONE)
    email, password = LOGINS["parent"]
    page.goto(portal.url + "/login")
    tab_to(page, page.get_by_label("Email"))
    page.keyboard.type(email)
    tab_to(page, page.get_by_label("Password"))
    page.keyboard.type(password)
    page.keyboard.press("Enter")

    tab_to(page, page.get_by_role("link", name="Edit Pat Parker"))
    page.keyboard.press("Enter")
    # A screen reader announces it by its role, its label and whether it is on.
    switch = page.get_by_role("switch", name=ALLOW_TEXTING)
    expect(switch).to_be_checked()
    tab_to(page, switch)
    page.keyboard.press("Space")
    expect(switch).not_to_be_checked()
    tab_to(page, page.get_by_role("button", name="Save"))
    page.keyboard.press("Enter")

    expect(page.get_by_role("status")).to_have_text("Saved.")
    expect(page.get_by_text("Texts not allowed")).to_be_visible()


def test_a_contact_answers_the_emailed_link_with_the_keyboard_alone(browser, portal):
    ask_jordan_by_email(new_page(browser, PHONE), portal.url)
    jordan = new_page(browser, PHONE)
    mail = open_mail(
        jordan, portal.url, "Riverside Dance Academy would like to send you text messages"
    )
    jordan.goto(mail.locator("a[href*='/text-consent/']").first.get_attribute("href"))

    tab_to(jordan, jordan.get_by_role("button", name="No, Do Not Send Me Text Messages"))
    jordan.keyboard.press("Space")
    expect(jordan.get_by_role("button", name="No, Do Not Send Me Text Messages")).to_have_count(0)
    open_mail(jordan, portal.url, "Text messaging opt-out by email link: Jordan Parker")
