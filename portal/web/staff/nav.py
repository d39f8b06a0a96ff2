"""The staff console's navigation: each area by route name, label and the role it needs."""

from __future__ import annotations

import dataclasses

from starlette.routing import NoMatchFound

from portal.web.access import staff_may


@dataclasses.dataclass(frozen=True)
class Area:
    route: str
    label: str
    role: str = "viewer"


# Each area's pages live under its own path: /staff/people/..., /staff/proof/...
AREAS = (
    Area("staff.dashboard", "Dashboard"),
    Area("staff.people", "People"),
    Area("staff.families", "Families"),
    Area("staff.messages", "Messages"),
    Area("staff.alerts", "Alerts"),
    Area("staff.requests", "Requests", role="texting"),
    Area("staff.import_form", "Import", role="texting"),
    Area("staff.proof", "Proof"),
    Area("staff.settings", "Settings", role="admin"),
    Area("staff.accounts", "Staff", role="admin"),
)
DASHBOARD = AREAS[0].route


def links(request) -> list[dict]:
    """The areas this staff member may open, as links, the current one marked."""
    account = request.state.account
    path = request.url.path
    found = []
    for area in AREAS:
        if not staff_may(account, area.role):
            continue
        try:
            url = str(request.app.url_path_for(area.route))
        except NoMatchFound:
            continue  # an area this deployment does not serve
        under = area.route != DASHBOARD and path.startswith(url.rstrip("/") + "/")
        current = path == url or under
        found.append({"url": url, "label": area.label, "current": current, "route": area.route})
    return found
