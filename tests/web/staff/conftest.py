"""Staff console fixtures: a read-only staff login."""

from __future__ import annotations

import pytest
from staff_steps import login_as


@pytest.fixture
def viewer(portal):
    """A staff login with the viewer role (looks, changes nothing), logged in."""
    login_as(portal, "viewer")
    return portal
