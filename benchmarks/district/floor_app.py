"""The floors: bare Starlette routes served by the same uvicorn settings as `portal serve`.

GET /text-consent/<token> verifies the token with the product's own link service and renders
the product's own consent page from a row read once at start (no database, no middleware);
POST /floor/form parses the form and answers like the Twilio webhook; POST /floor/save parses
the form and redirects like a portal save. Run: python -m benchmarks.district.floor_app PORT
(settings from the environment, the page row from the JSON file named by BENCH_FLOOR_PAGE).
"""

from __future__ import annotations

import json
import os
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal.context import PortalContext
from portal.db import Row
from portal.settings import Settings
from portal.web import consent_links
from portal.web.access_log import uvicorn_log_config
from portal.web.routes import routes
from portal.web.webhooks import EMPTY_TWIML


def create(settings: Settings, page: Row) -> Starlette:
    ctx = PortalContext.build(settings)  # its database is never connected

    async def link(request: Request) -> Response:
        token = request.path_params["token"]
        service = request.app.state.ctx.consent_links
        service.link_id_of(token)  # the signature and its max_age, as the product checks
        service.check_row(page)  # expiry and use, on the row the product would have read
        return consent_links._show(request, page, token)

    async def form(request: Request) -> Response:
        await request.form()
        return Response(EMPTY_TWIML, media_type="text/xml")

    async def save(request: Request) -> Response:
        await request.form()
        return RedirectResponse("/account/students?saved=1", status_code=303)

    floor_routes = [
        Route("/text-consent/{token}", link, methods=["GET"]),
        Route("/floor/form", form, methods=["POST"]),
        Route("/floor/save", save, methods=["POST"]),
    ]
    # The product's routes after ours: only so that the page's url_for() finds its names.
    app = Starlette(routes=floor_routes + routes(settings))
    app.state.ctx = ctx
    ctx.organization_name = page.org_name
    return app


def main(port: int) -> None:
    with open(os.environ["BENCH_FLOOR_PAGE"]) as page_file:
        page = Row(json.load(page_file))
    app = create(Settings.from_env(), page)
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        lifespan="off",
        proxy_headers=False,
        log_config=uvicorn_log_config(),
    )


if __name__ == "__main__":
    main(int(sys.argv[1]))
