"""The four ways to opt out, as people do them in the browser: the parent portal (for self,
another contact and a student), the emailed CLICK HERE link, a STOP reply, and staff."""

from __future__ import annotations

import re

from browser.axe import assert_accessible
from browser.page_checks import screenshot
from browser.steps import (
    DESKTOP,
    PHONE,
    ask_jordan_by_email,
    click_here,
    log_in,
    new_page,
    open_mail,
    open_phone,
    switch_texting,
    text_the_portal,
)
from playwright.sync_api import expect


def test_a_parent_turns_off_their_own_texting_in_settings(browser, portal, screenshots):
    page = new_page(browser, PHONE)
    log_in(page, portal.url, "parent")
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Edit Pat Parker").click()
    switch_texting(page, on=False)

    expect(page.get_by_role("status")).to_have_text("Saved.")
    expect(page.get_by_text("Texts not allowed")).to_be_visible()
    screenshot(page, screenshots, "en", 360, "flow-parent-self-off")
    mail = open_mail(page, portal.url, "Text messaging opt-out: Pat Parker")
    expect(mail).to_contain_text("office@demo.example")


def test_a_parent_turns_off_texting_for_a_student(browser, portal, screenshots):
    page = new_page(browser, PHONE)
    log_in(page, portal.url, "parent")
    page.get_by_role("link", name="Students").click()
    page.get_by_role("link", name=re.compile(r"^View student\W+Avery Parker$")).click()
    page.get_by_role("link", name="Edit Avery Parker").click()
    switch_texting(page, on=False)

    expect(page.get_by_role("heading", name="Avery Parker", level=1)).to_be_visible()
    expect(page.get_by_text("Texts not allowed")).to_be_visible()
    screenshot(page, screenshots, "en", 360, "flow-parent-student-off")
    open_mail(page, portal.url, "Text messaging opt-out: Avery Parker")


def test_a_contact_says_yes_by_email_then_the_parent_turns_them_off(
    browser, portal, axe_script, screenshots
):
    parent = new_page(browser, PHONE)
    ask_jordan_by_email(parent, portal.url)

    jordan = new_page(browser, PHONE)
    click_here(jordan, portal.url)
    expect(jordan.get_by_role("heading", level=1)).to_contain_text("may we text you?")
    jordan.get_by_role("button", name="Yes, Send Me Text Messages").click()
    expect(jordan.get_by_role("heading", level=1)).to_be_visible()
    assert_accessible(jordan, axe_script)
    screenshot(jordan, screenshots, "en", 360, "flow-consent-yes-answered")
    open_mail(jordan, portal.url, "Riverside Dance Academy: your text message choice is saved")

    parent.get_by_role("link", name="Contacts").click()
    expect(parent.locator("article", has_text="Jordan Parker")).to_contain_text("Texts allowed")
    parent.get_by_role("link", name="Edit Jordan Parker").click()
    switch_texting(parent, on=False)
    expect(parent.locator("article", has_text="Jordan Parker")).to_contain_text("Texts not allowed")
    open_mail(parent, portal.url, "Text messaging opt-out: Jordan Parker")


def test_a_contact_says_no_on_the_emailed_link_without_javascript(
    browser, portal, axe_script, screenshots
):
    ask_jordan_by_email(new_page(browser, PHONE), portal.url)

    # The contact's mail app may open links in a browser with JavaScript off.
    jordan = new_page(browser, PHONE, java_script_enabled=False)
    link = click_here(jordan, portal.url)
    jordan.get_by_role("button", name="No, Do Not Send Me Text Messages").click()
    expect(jordan.get_by_role("heading", level=1)).to_be_visible()
    screenshot(jordan, screenshots, "en", 360, "flow-consent-no-answered")

    # Both confirmations: to Jordan, and to the office.
    open_mail(jordan, portal.url, "Riverside Dance Academy: your text message choice is saved")
    open_mail(jordan, portal.url, "Text messaging opt-out by email link: Jordan Parker")
    # The link answers once: opened again it changes nothing and says so.
    jordan.goto(link)
    expect(jordan.get_by_role("button", name="Yes, Send Me Text Messages")).to_have_count(0)
    screenshot(jordan, screenshots, "en", 360, "flow-consent-link-used")
    checked = new_page(browser, PHONE)
    checked.goto(link)
    assert_accessible(checked, axe_script)


def test_a_stop_reply_from_the_phone_opts_the_number_out_and_start_undoes_it(
    browser, portal, screenshots
):
    phone = new_page(browser, PHONE)
    text_the_portal(phone, portal.url, "(201) 555-0101", "STOP")
    open_phone(phone, portal.url, "(201) 555-0101", "You are unsubscribed")
    screenshot(phone, screenshots, "en", 360, "flow-phone-stop")
    open_mail(phone, portal.url, re.compile(r"Text messaging opt-out: .*0101 replied STOP"))

    parent = new_page(browser, PHONE)
    log_in(parent, portal.url, "parent")
    parent.get_by_role("link", name="Settings").click()
    expect(
        parent.get_by_text("This number replied STOP. Text START to (201) 555-0100")
    ).to_be_visible()

    text_the_portal(phone, portal.url, "(201) 555-0101", "START")
    open_phone(phone, portal.url, "(201) 555-0101", "You are subscribed to texts again")
    parent.reload()
    expect(parent.get_by_text("Texts allowed")).to_be_visible()


def test_staff_uncheck_text_opt_in_with_a_reason(browser, portal, screenshots):
    page = new_page(browser, DESKTOP)
    log_in(page, portal.url, "staff")
    page.get_by_role("link", name="People").click()
    page.get_by_label("Search").fill("ave")
    page.get_by_label("Search").press("Enter")
    page.get_by_role("link", name="Avery Parker").click()
    page.get_by_label("Text Opt-In", exact=True).uncheck()
    page.get_by_label("Note: the evidence, or the reason for a change").fill(
        "Parent asked at the front desk"
    )
    page.get_by_role("button", name="Save Changes").click()

    history = page.locator("ol.history")
    expect(history).to_contain_text("Parent asked at the front desk")
    screenshot(page, screenshots, "en", 1280, "flow-staff-opt-out")
    open_phone(page, portal.url, "(201) 555-0103", "will get no more texts")
