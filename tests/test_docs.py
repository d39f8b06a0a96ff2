"""The documentation keeps up with the code: every setting and command is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from portal.settings import SETTINGS

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_every_setting_is_in_env_example_with_its_default(setting):
    example = (ROOT / ".env.example").read_text()
    match = re.search(rf"^{setting.name}=(.*)$", example, re.MULTILINE)
    assert match, f"{setting.name} is missing from .env.example"
    assert match.group(1).strip('"') == setting.default


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_every_setting_is_in_the_readme(setting):
    assert f"`{setting.name}`" in (ROOT / "README.md").read_text()


@pytest.mark.parametrize(
    "command",
    [
        "serve",
        "worker",
        "migrate",
        "demo",
        "create-staff",
        "import-roster",
        "export-consent",
        "request-consent",
        "backup",
        "copy-database",
    ],
)
def test_every_cli_command_is_in_the_readme_and_in_portal_help(command, capsys):
    from portal.cli import main

    assert f"`portal {command}" in (ROOT / "README.md").read_text()
    with pytest.raises(SystemExit):
        main(["--help"])
    assert command in capsys.readouterr().out


def test_the_readme_gives_the_two_commands_that_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "portal serve" in readme
    assert "python -m pytest" in readme and "python -m pytest" in ci
