"""Fixtures for the browser tests: Debian's chromium driven by Playwright, the portal served
as the README serves it, axe-core, and a folder for the screenshots."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from browser.axe import axe_source
from browser.served_portal import ServedPortal, copy_database, demo_database

CHROMIUM = Path(os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium"))
HERE = Path(__file__).parent


def pytest_collection_modifyitems(items):
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if CHROMIUM.exists():
        return CHROMIUM
    reason = f"no chromium at {CHROMIUM}: install it with `apt-get install chromium`"
    if os.environ.get("PORTAL_BROWSER_TESTS") == "required":
        pytest.fail(reason + " (PORTAL_BROWSER_TESTS=required)")
    pytest.skip(reason)


# Per module, not per session: Playwright's sync API keeps an event loop of its own while it
# runs, which must be gone before the suite's asyncio tests in other folders start.
@pytest.fixture(scope="module")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    # Root cannot use chromium's sandbox; CI runs as root.
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(chromium_path), headless=True, args=args
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def axe_script() -> str:
    return axe_source()


@pytest.fixture(scope="session")
def screenshots(request) -> Path:
    folder = Path(
        os.environ.get("PORTAL_SCREENSHOTS") or request.config.rootpath / "artifacts/screenshots"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def demo_template(chromium_path, tmp_path_factory) -> Path:
    """`portal demo` once per session; each server starts from a copy of its database."""
    return demo_database(tmp_path_factory.mktemp("demo"))


@pytest.fixture
def portal(demo_template, tmp_path):
    """A fresh demo portal for one test: its flow meets no other test's changes."""
    served = ServedPortal(copy_database(demo_template, tmp_path / "portal")).start()
    yield served
    served.stop()
