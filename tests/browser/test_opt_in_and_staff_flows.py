"""Opting back in (the portal switch, START is in the opt-out flows), a roster imported
through the file input, and a mass text watched arriving on /dev/phone."""

from __future__ import annotations

from browser.page_checks import screenshot
from browser.steps import (
    ARRIVAL_SECONDS,
    DESKTOP,
    PHONE,
    log_in,
    new_page,
    open_phone,
    switch_texting,
)
from playwright.sync_api import expect

ROSTER = b"""family,kind,first_name,last_name,email,cell_phone,texting,consent_note
Garcia,contact,Ana,Garcia,ana@garcia.example,(201) 555-0140,yes,registration form 2026-09
Garcia,contact,Luis,Garcia,luis@garcia.example,201-555-0141,no,
Garcia,student,Leo,Garcia,,,,
Nguyen,contact,Mai,Nguyen,mai@nguyen.example,+1 201 555 0150,,
"""


def test_a_parent_turns_texting_back_on_and_the_phone_gets_a_confirmation(
    browser, portal, screenshots
):
    page = new_page(browser, PHONE)
    log_in(page, portal.url, "parent")
    for on in (False, True):
        page.get_by_role("link", name="Settings").click()
        page.get_by_role("link", name="Edit Pat Parker").click()
        switch_texting(page, on=on)
        expect(page.get_by_role("status")).to_have_text("Saved.")

    expect(page.get_by_text("Texts allowed")).to_be_visible()
    screenshot(page, screenshots, "en", 360, "flow-parent-self-on")
    open_phone(page, portal.url, "(201) 555-0101", "You are subscribed to texts")


def test_staff_import_a_small_roster_through_the_file_input(browser, portal, screenshots):
    page = new_page(browser, DESKTOP)
    log_in(page, portal.url, "staff")
    page.get_by_role("link", name="Import").click()
    page.get_by_label("Roster file").set_input_files(
        {"name": "roster.csv", "mimeType": "text/csv", "buffer": ROSTER}
    )
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dry run: roster.csv")
    screenshot(page, screenshots, "en", 1280, "flow-staff-import-review")
    page.get_by_role("button", name="Import").click()

    # The job's page refreshes itself until the import is done.
    expect(page.get_by_role("status")).to_have_text("Done: 4 rows", timeout=ARRIVAL_SECONDS * 1000)
    screenshot(page, screenshots, "en", 1280, "flow-staff-import-done")
    page.get_by_role("link", name="People").click()
    page.get_by_label("Search").fill("Garcia")
    page.get_by_label("Search").press("Enter")
    expect(page.get_by_role("link", name="Ana Garcia")).to_be_visible()
    page.get_by_role("link", name="Ana Garcia").click()
    expect(page.get_by_text("Texts allowed").first).to_be_visible()


def test_staff_send_a_mass_text_and_it_arrives_on_the_phone(browser, portal, screenshots):
    page = new_page(browser, DESKTOP)
    log_in(page, portal.url, "staff")
    page.get_by_role("link", name="Messages").click()
    body = "Rehearsal moves to 5 pm on Friday."
    page.get_by_label("Text", exact=True).fill(body)
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("heading", name="Preview the text")).to_be_visible()
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_role("heading", name="Mass text", level=1)).to_be_visible()
    screenshot(page, screenshots, "en", 1280, "flow-staff-mass-text")

    phone = new_page(browser, PHONE)
    open_phone(phone, portal.url, "(201) 555-0101", body)
    screenshot(phone, screenshots, "en", 360, "flow-phone-mass-text")
