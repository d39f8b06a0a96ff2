"""Roster import through the real CLI: odd encodings, repeats, re-imports and others' consent."""

from __future__ import annotations

import pytest

from portal.cli import main

HEADER = "family,kind,first_name,last_name,email,cell_phone,texting,consent_note\r\n"


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'roster.sqlite3'}")
    assert main(["migrate"]) == 0
    return tmp_path


def run_import(env, capsys, content: bytes, *args: str) -> tuple[int, str]:
    path = env / "roster.csv"
    path.write_bytes(content)
    capsys.readouterr()
    code = main(["import-roster", str(path), *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def people(env) -> list[tuple]:
    import sqlite3

    with sqlite3.connect(env / "roster.sqlite3") as db:
        return db.execute(
            "SELECT f.name, p.first_name, p.last_name, p.cell_phone FROM people p"
            " JOIN families f ON f.id = p.family_id ORDER BY p.id"
        ).fetchall()


def events(env) -> list[tuple]:
    import sqlite3

    with sqlite3.connect(env / "roster.sqlite3") as db:
        return db.execute("SELECT channel, new_status FROM consent_events ORDER BY id").fetchall()


def test_excel_csv_in_windows_1252_and_utf8_with_a_bom_both_import(env, capsys):
    latin = (HEADER + "Muñoz,contact,José,Muñoz,jose@real.example,2015550131,,\r\n").encode(
        "cp1252"
    )
    code, out = run_import(env, capsys, latin)
    assert code == 0, out
    bom = ("\ufeff" + HEADER + "Zoë,student,Zoë,Brontë,,,,\r\n").encode("utf-8")
    code, out = run_import(env, capsys, bom)
    assert code == 0, out
    assert [p[:3] for p in people(env)] == [("Muñoz", "José", "Muñoz"), ("Zoë", "Zoë", "Brontë")]


def test_a_spreadsheet_file_or_undecodable_text_is_refused_with_a_clear_message(env, capsys):
    code, out = run_import(env, capsys, b"PK\x03\x04\x00\x00binary spreadsheet")
    assert code == 1 and "not a CSV file" in out and "Traceback" not in out
    code, out = run_import(env, capsys, HEADER.encode() + b"A,contact,\x81\x8d,B,,,,\r\n")
    assert code == 1 and "CSV UTF-8" in out
    assert people(env) == []


def test_texting_yes_for_a_number_that_replied_stop_is_a_row_error_and_changes_nothing(env, capsys):
    import sqlite3

    with sqlite3.connect(env / "roster.sqlite3") as db:
        db.execute(
            "INSERT INTO phone_suppressions (phone, active, source, updated_at)"
            " VALUES ('+12015550131', 1, 'sms_keyword', '2026-11-01T00:00:00Z')"
        )
    content = (
        HEADER
        + "Lee,contact,Sam,Lee,sam@real.example,2015550132,yes,paper form\r\n"
        + "Lee,contact,Kim,Lee,kim@real.example,(201) 555-0131,yes,paper form\r\n"
    ).encode()
    code, out = run_import(env, capsys, content)
    assert code == 1 and "line 3" in out and "replied STOP" in out
    assert "Traceback" not in out and people(env) == [] and events(env) == []


def test_identical_rows_merge_and_conflicting_repeats_are_refused(env, capsys):
    row = "Lee,student,Ari,Lee,,2015550133,,\r\n"
    code, out = run_import(env, capsys, (HEADER + row + row).encode())
    assert code == 0 and "line 3 repeats line 2" in out
    assert len(people(env)) == 1
    conflicting = (
        HEADER + "Ng,student,Bo,Ng,,2015550134,,\r\n" + "Ng,student,Bo,Ng,,2015550135,,\r\n"
    )
    code, out = run_import(env, capsys, conflicting.encode())
    assert code == 1 and "same person as line 2" in out
    assert len(people(env)) == 1


def test_importing_the_same_file_twice_changes_nothing_the_second_time(env, capsys):
    content = (
        HEADER
        + "Park,contact,Jin,Park,jin@real.example,2015550136,yes,registration form\r\n"
        + "Park,student,Min,Park,,2015550136,no,\r\n"
    ).encode()
    assert run_import(env, capsys, content)[0] == 0
    before_people, before_events = people(env), events(env)
    code, out = run_import(env, capsys, content)
    assert code == 0 and "imported 0 people, skipped 2 already present" in out
    assert people(env) == before_people and events(env) == before_events


def test_an_import_never_overrides_an_answer_the_person_gave(env, capsys):
    import sqlite3

    assert (
        run_import(env, capsys, (HEADER + "Diaz,contact,Eva,Diaz,,2015550137,,\r\n").encode())[0]
        == 0
    )
    with sqlite3.connect(env / "roster.sqlite3") as db:
        db.execute(
            "INSERT INTO consent_events (person_id, phone, old_status, new_status, channel,"
            " actor_kind, actor_label, created_at) VALUES (1, '+12015550137', 'none',"
            " 'opted_out', 'sms_keyword', 'handset', 'handset', '2026-11-02T00:00:00Z')"
        )
        db.execute(
            "INSERT INTO consent_state (person_id, status, phone, version, last_event_id,"
            " updated_at) VALUES (1, 'opted_out', '+12015550137', 1, 1, '2026-11-02T00:00:00Z')"
        )
    content = (HEADER + "Diaz,contact,Eva,Diaz,,2015550137,yes,paper form\r\n").encode()
    code, out = run_import(env, capsys, content)
    assert code == 0 and "kept the answer already on file" in out
    assert events(env) == [("sms_keyword", "opted_out")]


def test_an_agreement_for_another_number_than_the_portals_opts_nobody_in(env, capsys):
    """Found by the model-based test's review: consent is per number (rule 6)."""
    first = (HEADER + "Diaz,contact,Eva,Diaz,,2015550137,,\r\n").encode()
    assert run_import(env, capsys, first)[0] == 0
    content = (HEADER + "Diaz,contact,Eva,Diaz,,2015550139,yes,paper form\r\n").encode()
    code, out = run_import(env, capsys, content)
    assert code == 0 and "not opted in: the portal has another cell phone" in out
    assert events(env) == []


def test_a_dry_run_shows_each_row_and_changes_nothing(env, capsys):
    content = (HEADER + "Roe,contact,Ann,Roe,ann@real.example,2015550138,yes,paper\r\n").encode()
    code, out = run_import(env, capsys, content, "--dry-run")
    assert code == 0 and "nothing was changed" in out
    assert "line 2: add Ann Roe (contact, Roe); texts allowed" in out
    assert people(env) == [] and events(env) == []
