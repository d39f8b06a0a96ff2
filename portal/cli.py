"""The `portal` command: serve, worker, migrate, demo, create-staff, import, export, backup
and copy-database."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys

from portal.settings import Settings, SettingsError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="portal",
        description="Text-messaging consent portal. Settings come from the "
        "environment or .env (see .env.example).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the web portal (and its mail dispatcher)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    worker = commands.add_parser("worker", help="deliver queued email and texts (no web)")
    worker.add_argument("--once", action="store_true", help="deliver what is due, then exit")
    commands.add_parser("migrate", help="apply database migrations")
    commands.add_parser("demo", help="load the demo organization (refuses real data)")
    staff = commands.add_parser("create-staff", help="create a staff login")
    staff.add_argument("email")
    staff.add_argument("--name", default="Staff")
    staff.add_argument(
        "--role",
        choices=("admin", "texting", "viewer"),
        default="admin",
        help="admin: everything; texting: consent, blocks, requests and texts; viewer: read only",
    )
    roster = commands.add_parser("import-roster", help="import families from a CSV file")
    roster.add_argument("file")
    roster.add_argument(
        "--dry-run", action="store_true", help="check the file and show, row by row, what it does"
    )
    ask = commands.add_parser(
        "request-consent", help="email opt-in requests (CLICK HERE) to people"
    )
    who = ask.add_mutually_exclusive_group(required=True)
    who.add_argument(
        "--all-unanswered",
        action="store_true",
        help="everyone with a cell phone who never answered",
    )
    who.add_argument(
        "--person", type=int, action="append", metavar="ID", help="one person by id (repeatable)"
    )
    export = commands.add_parser("export-consent", help="write the consent ledger as CSV")
    export.add_argument("file")
    backup = commands.add_parser(
        "backup", help="copy the SQLite database, consistent while the portal runs"
    )
    backup.add_argument("file")
    copy = commands.add_parser(
        "copy-database", help="copy a SQLite database into a new, empty PostgreSQL database"
    )
    copy.add_argument(
        "--from",
        dest="source",
        metavar="URL",
        help="the SQLite database to copy (default: DATABASE_URL)",
    )
    copy.add_argument(
        "--to", dest="target", metavar="URL", required=True, help="postgresql://... without tables"
    )

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # Every command opens and closes the database: that is not news worth a line.
    logging.getLogger("databases").setLevel(logging.WARNING)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"portal: {exc}", file=sys.stderr)
        return 2
    handler = globals()[f"_{args.command.replace('-', '_')}"]
    return handler(settings, args) or 0


def _serve(settings: Settings, args) -> int:
    import uvicorn

    from portal.app import create_app
    from portal.web.access_log import uvicorn_log_config

    settings = settings.served_at(args.host, args.port)
    print(
        f"Portal at http://{args.host}:{args.port}/"
        + ("  (mail: /dev/mailbox)" if settings.is_development else "")
    )
    # Client addresses (login throttling, the ledger's IP) come from X-Forwarded-For only as
    # far as our own proxies wrote it: the app's ProxyHeadersMiddleware reads it. uvicorn's
    # own reading stays off, since with `*` it believes the client's left-most entry.
    uvicorn.run(
        create_app(settings),
        host=args.host,
        port=args.port,
        # "on": a failing start is an error that ends the process (uvicorn exits 3), never
        # taken for an app without lifespan support and served half set up.
        lifespan="on",
        proxy_headers=False,
        log_config=uvicorn_log_config(),  # emailed-link tokens never reach the access log
    )
    return 0


def _run(coro):
    return asyncio.run(coro)


async def _with_context(settings: Settings, work, *, needs_schema: bool = True):
    from starlette.routing import Router

    from portal.context import PortalContext
    from portal.db import migrate
    from portal.web.routes import routes

    ctx = PortalContext.build(settings)
    ctx.router = Router(routes=routes(settings))
    await ctx.db.connect()
    try:
        await ctx.db.check_pragmas()
        if needs_schema:
            if waiting := await migrate.pending(ctx.db):
                print(
                    f"portal: run `portal migrate` first (pending: {', '.join(waiting)})",
                    file=sys.stderr,
                )
                return 2
            await ctx.ensure_organization()
        return await work(ctx)
    finally:
        await ctx.db.disconnect()


def _migrate(settings: Settings, args) -> int:
    from portal.db import migrate

    async def work(ctx):
        applied = await migrate.apply(ctx.db)
        print("applied: " + ", ".join(applied) if applied else "database is up to date")
        await ctx.ensure_organization()

    return _run(_with_context(settings, work, needs_schema=False)) or 0


def _demo(settings: Settings, args) -> int:
    from portal.db import migrate
    from portal.people import demo

    async def work(ctx):
        await migrate.apply(ctx.db)
        await ctx.ensure_organization()
        try:
            loaded = await demo.load(ctx)
        except demo.RefusedDemo as exc:
            print(f"portal demo: {exc}", file=sys.stderr)
            return 1
        print("demo data loaded" if loaded else "demo data is already loaded")
        print(f"  parent:        {demo.PARENT_EMAIL} / {demo.PARENT_PASSWORD}")
        print(f"  second family: {demo.SECOND_PARENT_EMAIL} / {demo.SECOND_PARENT_PASSWORD}")
        print(f"  staff:         {demo.STAFF_EMAIL} / {demo.STAFF_PASSWORD}")
        return 0

    return _run(_with_context(settings, work, needs_schema=False))


def _create_staff(settings: Settings, args) -> int:
    from portal.accounts import passwords
    from portal.clock import to_db
    from portal.db import accounts as account_rows

    password = getpass.getpass("Password for the new staff login: ")
    problem = passwords.problem_with(password)
    if problem:
        print(f"portal create-staff: {problem}", file=sys.stderr)
        return 1

    async def work(ctx):
        async with ctx.db.write() as conn:
            if await account_rows.by_email(conn, args.email):
                print(f"portal create-staff: {args.email} already has a login", file=sys.stderr)
                return 1
            await account_rows.create(
                conn,
                email=args.email,
                password_hash=passwords.hash_password(password),
                role="staff",
                staff_role=args.role,
                person_id=None,
                display_name=args.name,
                can_text=True,
                now=to_db(ctx.now()),
            )
        print(f"staff login ({args.role}) created for {args.email}")
        return 0

    return _run(_with_context(settings, work))


def _worker(settings: Settings, args) -> int:
    from portal.consent.gate import ConsentGate
    from portal.messaging import choice
    from portal.messaging.dispatcher import OutboxDispatcher

    if not settings.smtp_host or not settings.twilio_account_sid:
        print(
            "portal worker: set SMTP_HOST and TWILIO_* (the local mail catcher and fake phone"
            " live inside `portal serve`)",
            file=sys.stderr,
        )
        return 2

    async def work(ctx):
        chosen = choice.choose(settings, status_callback=ctx.url_for("webhooks.status"))
        dispatcher = OutboxDispatcher(ctx, chosen.by_channel, ConsentGate())
        if args.once:
            print(f"delivered or tried {await dispatcher.drain()} messages")
            return 0
        await dispatcher.run_forever()

    return _run(_with_context(settings, work))


def _import_roster(settings: Settings, args) -> int:
    from portal.people import roster

    def progress(done: int, total: int) -> None:
        if total > roster.CHUNK_ROWS:
            print(f"  {done} of {total} rows written", file=sys.stderr)

    async def work(ctx):
        try:
            with open(args.file, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            print(f"portal import-roster: {exc.strerror}: {args.file}", file=sys.stderr)
            return 1
        report = await roster.import_roster(ctx, data, dry_run=args.dry_run, progress=progress)
        if args.dry_run and report.ok:
            print("dry run: nothing was changed")
            for line in report.row_lines():
                print(line)
        for line in report.lines():
            print(line)
        return 0 if report.ok else 1

    return _run(_with_context(settings, work))


def _request_consent(settings: Settings, args) -> int:
    from portal.consent import requests

    async def work(ctx):
        async with ctx.db.write() as conn:
            ids = await requests.never_answered(conn) if args.all_unanswered else (args.person)
            report = await requests.request_consent(conn, ctx, ids, requested_by="the office")
        print(f"queued {len(report.sent)} opt-in request emails")
        for person_id, reason in sorted(report.skipped.items()):
            print(f"  skipped person {person_id}: {reason}")
        return 0

    return _run(_with_context(settings, work))


def _export_consent(settings: Settings, args) -> int:
    from portal.consent import export

    async def work(ctx):
        with open(args.file, "w", newline="", encoding="utf-8") as handle:
            count = await export.export_ledger_csv(ctx, handle)
        print(f"wrote {count} consent events to {args.file}")
        return 0

    return _run(_with_context(settings, work))


def _backup(settings: Settings, args) -> int:
    from portal.db import backup

    try:
        pages = backup.sqlite_backup(settings.database_url, args.file)
    except backup.BackupRefused as exc:
        print(f"portal backup: {exc}", file=sys.stderr)
        return 2
    print(f"backed up {pages} pages to {args.file}; restore by copying it back while stopped")
    return 0


def _copy_database(settings: Settings, args) -> int:
    from portal.db import Database, DatabaseError
    from portal.db import copy as database_copy

    source_url = args.source or settings.database_url
    path = database_copy.sqlite_file(source_url)
    if path is not None and not path.is_file():
        # Opening a missing file would create an empty database: say so instead.
        print(f"portal copy-database: no database file at {path}", file=sys.stderr)
        return 2

    def progress(table: str, rows: int) -> None:
        print(f"  {table}: {rows} rows", file=sys.stderr)

    async def work() -> int:
        try:
            source, target = Database(source_url), Database(args.target)
        except DatabaseError as exc:
            print(f"portal copy-database: {exc}", file=sys.stderr)
            return 2
        await source.connect()
        await target.connect()
        try:
            await source.check_pragmas()
            report = await database_copy.copy_database(source, target, progress=progress)
        except database_copy.CopyRefused as exc:
            print(f"portal copy-database: {exc}", file=sys.stderr)
            return 2
        finally:
            await target.disconnect()
            await source.disconnect()
        if not report.matches:
            print("portal copy-database: row counts differ after the copy:", file=sys.stderr)
            for table, rows in report.source_rows.items():
                if report.target_rows.get(table) != rows:
                    print(f"  {table}: {rows} -> {report.target_rows.get(table)}", file=sys.stderr)
            return 1
        print(
            f"copied {report.total} rows in {len(report.target_rows)} tables; every table's row"
            " count matches. Point DATABASE_URL at the copy and start the portal."
        )
        return 0

    return _run(work())


if __name__ == "__main__":
    sys.exit(main())
