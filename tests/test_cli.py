"""The `portal` command against a real SQLite file."""

from __future__ import annotations

import csv

import pytest

from portal.cli import main


@pytest.fixture
def env(tmp_path, monkeypatch):
    """The CLI reads its settings from the environment, as in production."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    return tmp_path


def test_migrate_then_demo_loads_once_and_a_second_run_is_harmless(env, capsys):
    assert main(["migrate"]) == 0
    assert "0001_initial" in capsys.readouterr().out
    assert main(["demo"]) == 0
    assert "demo data loaded" in capsys.readouterr().out
    assert main(["demo"]) == 0
    assert "already loaded" in capsys.readouterr().out


def test_demo_refuses_a_database_with_real_data(env, capsys):
    roster = env / "roster.csv"
    roster.write_text(
        "family,kind,first_name,last_name,email,cell_phone,texting,consent_note\n"
        "Garcia,contact,Ana,Garcia,ana@real.example,2015550199,,\n"
    )
    assert main(["import-roster", str(roster)]) == 2
    assert "portal migrate" in capsys.readouterr().err
    assert main(["migrate"]) == 0
    assert main(["import-roster", str(roster)]) == 0
    assert main(["demo"]) == 1
    assert "real data" in capsys.readouterr().err


def test_import_is_all_or_nothing_and_export_writes_the_ledger(env, capsys):
    assert main(["migrate"]) == 0
    bad = env / "bad.csv"
    bad.write_text(
        "family,kind,first_name,last_name,email,cell_phone,texting,consent_note\n"
        "Garcia,contact,Ana,Garcia,ana@real.example,2015550199,yes,paper form\n"
        "Garcia,student,Leo,Garcia,,555,,\n"
    )
    assert main(["import-roster", str(bad)]) == 1
    assert "line 3" in capsys.readouterr().out
    good = env / "good.csv"
    good.write_text(
        "family,kind,first_name,last_name,email,cell_phone,texting,consent_note\n"
        "Garcia,contact,Ana,Garcia,ana@real.example,2015550199,yes,paper form\n"
        "Garcia,student,Leo,Garcia,,2015550198,,\n"
    )
    assert main(["import-roster", str(good)]) == 0
    out = env / "proof.csv"
    assert main(["export-consent", str(out)]) == 0
    rows = list(csv.DictReader(out.read_text().splitlines()))
    assert [(r["first_name"], r["new_status"], r["channel"]) for r in rows] == [
        ("Ana", "opted_in", "import")
    ]
    assert "paper form" in rows[0]["evidence"]


def test_request_consent_queues_emails_for_everyone_who_never_answered(env, capsys):
    assert main(["demo"]) == 0
    capsys.readouterr()
    assert main(["request-consent", "--all-unanswered"]) == 0
    out = capsys.readouterr().out
    assert "queued 1 opt-in request emails" in out  # Jordan: a phone and an email, no answer


def test_request_consent_for_one_person_reports_why_it_was_skipped(env, capsys):
    assert main(["demo"]) == 0
    capsys.readouterr()
    assert main(["request-consent", "--person", "999"]) == 0
    assert "skipped person 999: no such person" in capsys.readouterr().out
