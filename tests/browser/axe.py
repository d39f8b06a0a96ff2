"""axe-core from the npm registry, pinned and checked against its sha512, injected into a page:
`assert_accessible(page)` fails on any serious or critical WCAG 2.2 AA violation."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import sys
import tarfile
from pathlib import Path

import httpx

AXE_VERSION = "4.14.1"
AXE_TARBALL = f"https://registry.npmjs.org/axe-core/-/axe-core-{AXE_VERSION}.tgz"
# The registry's dist.integrity for that version: a tarball that does not match is refused.
AXE_INTEGRITY = (
    "sha512-"
    "FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="
)
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING_IMPACTS = {"serious", "critical"}


def _cache_dir() -> Path:
    # Under the virtual environment by default: fetched once per install, not once per run.
    return Path(os.environ.get("PORTAL_AXE_CACHE") or Path(sys.prefix) / "share" / "axe-core")


def _checked(tarball: bytes) -> bytes:
    digest = base64.b64encode(hashlib.sha512(tarball).digest()).decode()
    if f"sha512-{digest}" != AXE_INTEGRITY:
        raise AssertionError(f"axe-core {AXE_VERSION}: the tarball's sha512 is not the pinned one")
    return tarball


def axe_source() -> str:
    """axe.min.js of the pinned version, from the cached tarball or fetched and cached."""
    cached = _cache_dir() / f"axe-core-{AXE_VERSION}.tgz"
    if cached.exists():
        tarball = _checked(cached.read_bytes())
    else:
        response = httpx.get(AXE_TARBALL, timeout=60, follow_redirects=True)
        response.raise_for_status()
        tarball = _checked(response.content)
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(".part")
        partial.write_bytes(tarball)
        partial.replace(cached)
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        return archive.extractfile("package/axe.min.js").read().decode()


def blocking_violations(page, source: str) -> list[dict]:
    """The page's serious and critical WCAG 2.2 AA violations, one dict per rule."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(content=source)
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_22_AA
    )
    return [v for v in result["violations"] if v["impact"] in BLOCKING_IMPACTS]


def describe(violations: list[dict]) -> list[str]:
    """One line per offending element: rule id, impact, target, help."""
    return [
        f"axe {v['id']} ({v['impact']}) at {' '.join(map(str, node['target']))}: {v['help']}"
        for v in violations
        for node in v["nodes"]
    ]


def assert_accessible(page, source: str | None = None) -> None:
    """Fail, listing each one, if axe finds a serious or critical WCAG 2.2 AA violation."""
    found = describe(blocking_violations(page, source or axe_source()))
    assert not found, f"{page.url}:\n" + "\n".join(found)
