"""What every page must pass at every width: axe, no sideways scroll, 44-pixel targets, and a
full-page screenshot kept as an artifact."""

from __future__ import annotations

from pathlib import Path

from browser.axe import blocking_violations, describe

MIN_TARGET_PX = 44

# The elements and areas wider than the viewport, outermost first: what to fix for a page that
# scrolls sideways.
_OVERFLOW = """() => {
  const width = window.innerWidth;
  if (document.documentElement.scrollWidth <= width) return null;
  const wide = [...document.body.querySelectorAll('*')].filter(el => {
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.right > width + 0.5
      && !(el.parentElement && el.parentElement.getBoundingClientRect().right > width + 0.5);
  });
  return {scrollWidth: document.documentElement.scrollWidth, width,
          culprits: wide.slice(0, 5).map(el => el.tagName.toLowerCase()
            + (el.id ? '#' + el.id : '') + (el.className ? '.' + [...el.classList].join('.') : '')
            + ' (' + Math.round(el.getBoundingClientRect().right) + ' px)')};
}"""

# Every visible button, button-styled link and form control shorter than the minimum. A
# checkbox or radio counts with its label, which is part of the target a finger presses.
_SHORT = """minimum => {
  const controls = document.querySelectorAll(
    'button, a.button, [role=button], input:not([type=hidden]), select, textarea');
  const short = [];
  for (const el of controls) {
    const style = getComputedStyle(el);
    let box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0 || style.visibility === 'hidden') continue;
    if (box.right < 0 || box.bottom < 0) continue;  // moved off-screen: the skip link
    if (['checkbox', 'radio'].includes(el.type)) {
      for (const label of el.labels || []) {
        const l = label.getBoundingClientRect();
        const top = Math.min(box.top, l.top), bottom = Math.max(box.bottom, l.bottom);
        box = {height: bottom - top};
      }
    }
    if (box.height + 0.5 < minimum) {
      const label = el.labels && el.labels.length ? el.labels[0].innerText : '';
      const name = (el.getAttribute('aria-label') || label || el.innerText || el.value
                    || el.name || el.id || '').trim().slice(0, 40);
      short.push(el.tagName.toLowerCase() + (el.type ? '[' + el.type + ']' : '')
                 + ' "' + name + '" ' + Math.round(box.height) + ' px');
    }
  }
  return short;
}"""


def sideways_overflow(page) -> str | None:
    """Why the page scrolls sideways, or None when it fits the viewport's width."""
    found = page.evaluate(_OVERFLOW)
    if found is None:
        return None
    culprits = ", ".join(found["culprits"]) or "no single element"
    return f"scrolls sideways: {found['scrollWidth']} px wide in {found['width']} px ({culprits})"


def short_controls(page) -> list[str]:
    """Visible buttons, link-buttons and form controls under 44 pixels tall."""
    return page.evaluate(_SHORT, MIN_TARGET_PX)


def screenshot(page, folder: Path, lang: str, width: int, name: str) -> Path:
    """A full-page screenshot named `<lang>-<width>-<page>.png`."""
    path = folder / f"{lang}-{width}-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def page_problems(page, axe_source: str) -> list[str]:
    """Everything this page fails at its current width; empty when it passes."""
    problems = describe(blocking_violations(page, axe_source))
    overflow = sideways_overflow(page)
    if overflow:
        problems.append(overflow)
    problems += [f"under {MIN_TARGET_PX} px: {control}" for control in short_controls(page)]
    return problems
