"""The shape of the code (DESIGN.md section 3), checked so that it stays that way."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "portal"


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """Modules of the portal that this file imports at run time (not for type checks only)."""
    tree = ast.parse(path.read_text())
    type_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for node in ast.walk(block)
    }
    names = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("portal"):
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                names.add(full if full in modules else node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.startswith("portal"))
    return {n for n in names if n in modules}


def test_no_module_imports_in_a_circle():
    modules = _modules()
    graph = {name: _imports(path, modules) for name, path in modules.items()}
    done, stack = set(), []

    def visit(name: str) -> None:
        if name in stack:
            raise AssertionError("import circle: " + " -> ".join([*stack, name]))
        if name in done:
            return
        stack.append(name)
        for target in graph[name]:
            if target != name and not name.startswith(target + "."):
                visit(target)
        stack.pop()
        done.add(name)

    for name in graph:
        visit(name)


def test_no_package_imports_one_above_it():
    """Arrows run down: web -> (people, accounts, replies, messaging dispatch) -> consent -> db."""
    modules = _modules()
    below = {
        "portal.db": set(),
        "portal.consent": {"portal.web", "portal.people", "portal.accounts", "portal.replies"},
        "portal.messaging": {"portal.web", "portal.people", "portal.replies", "portal.consent"},
        "portal.replies": {"portal.web", "portal.people", "portal.accounts"},
        "portal.accounts": {"portal.web", "portal.people", "portal.replies"},
        "portal.people": {"portal.web", "portal.replies"},
    }
    for name, path in modules.items():
        for package, forbidden in below.items():
            if name == package or name.startswith(package + "."):
                wrong = {
                    i
                    for i in _imports(path, modules)
                    if i.rsplit(".", 1)[0] in forbidden or i in forbidden
                }
                assert not wrong, f"{name} imports upward: {sorted(wrong)}"


def test_no_module_is_too_long_to_read():
    long = {
        p.name: n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > 400
    }
    assert long == {}


def test_sql_lives_only_in_the_db_package():
    statement = re.compile(r"\b(SELECT\s.+\sFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM)\b")
    outside = [
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if "db" not in p.relative_to(PACKAGE).parts and statement.search(p.read_text())
    ]
    assert outside == []


def test_only_messaging_knows_the_providers():
    provider_libraries = re.compile(r"^\s*(import|from)\s+(aiosmtplib|aiosmtpd)\b", re.M)
    provider_modules = re.compile(r"messaging(\.| import )(twilio|smtp|mailcatcher)\b")
    outside = [
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if "messaging" not in p.relative_to(PACKAGE).parts
        and (provider_libraries.search(p.read_text()) or provider_modules.search(p.read_text()))
    ]
    # The webhooks read Twilio's requests through messaging/twilio.py's parsers.
    assert outside == ["web/webhooks.py"]
