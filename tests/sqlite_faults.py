"""SQLite connections a test switches into a fault and back (read-only, a full disk): SQLite
itself then refuses the writes, through a PRAGMA each connection applies when the switch moves.
Tests run as root, whom chmod does not stop, and a real full disk cannot be made on demand."""

from __future__ import annotations

import sqlite3

from portal import db as portal_db


class FaultSwitch:
    """Set `on` to put every SQLite connection of the app into the fault; clear it to lift it."""

    on = False


def install(monkeypatch, *, fault: str, healthy: str) -> FaultSwitch:
    """Make the app's SQLite connections run `fault` while the switch is on and `healthy`
    once it is off again (each a PRAGMA statement)."""
    switch = FaultSwitch()

    class Switched(portal_db.PragmaConnection):
        def _follow_switch(self) -> None:
            if getattr(self, "_fault_on", False) != switch.on:
                sqlite3.Connection.execute(self, fault if switch.on else healthy)
                self._fault_on = switch.on

        def execute(self, *args):
            self._follow_switch()
            return super().execute(*args)

        def cursor(self, *args):
            self._follow_switch()
            return super().cursor(*args)

    monkeypatch.setattr(portal_db, "PragmaConnection", Switched)
    return switch
