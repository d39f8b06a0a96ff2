"""`portal backup`: a consistent copy of the SQLite database, and a restore that works."""

from __future__ import annotations

import shutil
import sqlite3

import pytest

from portal.cli import main


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'live.sqlite3'}")
    assert main(["demo"]) == 0
    return tmp_path


def ledger(path) -> list[tuple]:
    with sqlite3.connect(path) as db:
        return db.execute(
            "SELECT id, person_id, new_status, channel FROM consent_events"
        ).fetchall()


def test_a_backup_restores_every_consent_event_and_the_ledger_stays_append_only(env, capsys):
    assert main(["backup", str(env / "copy.sqlite3")]) == 0
    assert "backed up" in capsys.readouterr().out
    before = ledger(env / "live.sqlite3")
    # Lose the live database, restore the copy, and the portal reads it as before.
    (env / "live.sqlite3").unlink()
    shutil.copy(env / "copy.sqlite3", env / "live.sqlite3")
    assert ledger(env / "live.sqlite3") == before and before
    assert main(["export-consent", str(env / "proof.csv")]) == 0
    with sqlite3.connect(env / "live.sqlite3") as db, pytest.raises(sqlite3.DatabaseError):
        db.execute("DELETE FROM consent_events")  # the triggers came along with the copy


def test_a_backup_never_overwrites_and_postgresql_is_pointed_at_pg_dump(env, capsys, monkeypatch):
    (env / "taken.sqlite3").write_text("keep me")
    assert main(["backup", str(env / "taken.sqlite3")]) == 2
    assert "nothing was overwritten" in capsys.readouterr().err
    assert (env / "taken.sqlite3").read_text() == "keep me"
    monkeypatch.setenv("DATABASE_URL", "postgresql://portal@127.0.0.1/nowhere")
    assert main(["backup", str(env / "pg.sql")]) == 2
    assert "pg_dump" in capsys.readouterr().err
