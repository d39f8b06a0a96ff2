"""/healthz asks the database itself: an instance whose database is gone answers 503."""

from __future__ import annotations

import dataclasses

import database_backends
from conftest import PUBLIC_URL
from starlette.testclient import TestClient

from portal.app import create_app


def test_healthz_answers_503_once_the_postgresql_database_is_gone(
    settings, clock, postgres_database
):
    settings = dataclasses.replace(settings, database_url=postgres_database)
    app = create_app(settings, clock=clock, start_dispatcher=False)
    with TestClient(app, base_url=PUBLIC_URL) as client:
        assert client.get("/healthz").json()["status"] == "ok"
        # Dropped under the running instance: its pooled connections are cut, and a new one
        # finds no database.
        database_backends.drop_postgres_database(postgres_database.rsplit("/", 1)[1])
        for _ in range(3):  # every connection of the pool, not only the first one tried
            response = client.get("/healthz")
            assert response.status_code == 503
            assert response.json()["status"] == "error"
