"""Named emails: templates/email/<name>/{subject.txt, body.txt, body.html} rendered to parts."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import jinja2

from portal import phones
from portal.i18n import catalogs, languages
from portal.paths import TEMPLATES_DIR


@dataclasses.dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


class EmailRenderer:
    def __init__(self, templates_dir: Path = TEMPLATES_DIR) -> None:
        loader = jinja2.FileSystemLoader(str(templates_dir))
        filters = {
            "mask": phones.mask,
            "phone": phones.display,
        }
        # Plain-text parts must not be HTML-escaped; the HTML part always is.
        self._text = jinja2.Environment(
            loader=loader,
            autoescape=False,  # noqa: S701 (text/plain part)
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
        )
        self._html = jinja2.Environment(
            loader=loader, autoescape=True, undefined=jinja2.StrictUndefined
        )
        for env in (self._text, self._html):
            env.filters.update(filters)
            catalogs.install(env)

    def render(self, name: str, language: str = languages.DEFAULT, **context: Any) -> RenderedEmail:
        with catalogs.rendering_in(language):
            subject = self._text.get_template(f"email/{name}/subject.txt").render(**context)
            text = self._text.get_template(f"email/{name}/body.txt").render(**context)
            html = self._html.get_template(f"email/{name}/body.html").render(
                language=language, **context
            )
        # A header is one line: any line break a name smuggled in is flattened, never sent.
        subject = re.sub(r"\s+", " ", subject).strip()
        return RenderedEmail(subject=subject, text=text, html=html)


# The templates ship with the package and never change while it runs: one renderer serves all.
_renderer = EmailRenderer()


def render(name: str, language: str = languages.DEFAULT, **context: Any) -> RenderedEmail:
    """Render the named email (templates/email/<name>/) to its subject and two bodies, in
    `language` (the recipient's)."""
    return _renderer.render(name, language, **context)
