"""Backups of the SQLite database with SQLite's online backup API.

The copy is consistent even while the portal writes (the backup API copies a snapshot, page
by page, and restarts if a writer changes a page it already copied). PostgreSQL has its own
tool for this: `pg_dump`.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


class BackupRefused(Exception):
    """The backup cannot be made as asked: the message says why and what to do instead."""


def sqlite_backup(database_url: str, target: str | Path) -> int:
    """Copy the database at `database_url` to `target`; returns the number of pages copied."""
    if not database_url.startswith("sqlite:///"):
        raise BackupRefused("this database is PostgreSQL: use pg_dump (see the README)")
    source_path = Path(database_url.removeprefix("sqlite:///"))
    if not source_path.is_file():
        raise BackupRefused(f"no database file at {source_path}")
    target = Path(target)
    if target.exists():
        raise BackupRefused(f"{target} exists already: choose a new file, nothing was overwritten")
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    destination = sqlite3.connect(target)
    try:
        source.backup(destination, pages=1024)
        pages = destination.execute("PRAGMA page_count").fetchone()[0]
        if destination.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupRefused("the copy failed its integrity check; nothing to restore from")
    finally:
        destination.close()
        source.close()
    return pages
