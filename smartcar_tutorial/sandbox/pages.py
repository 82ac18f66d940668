"""Render the sandbox's Connect pages from Jinja2 templates.

Autoescaping is on for every template, so whatever an authorization URL
carries (a ``state``, a scope, an app name) is shown as text, never run.

    html = render_page("intro.html", session=session)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from ..permissions import describe_permission, split_required

TEMPLATES = Path(__file__).parent / "templates"

_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

#: The brand picker's choices: the ``make`` value and the name shown.
BRANDS = (
    ("AUDI", "Audi"),
    ("BMW", "BMW"),
    ("CHEVROLET", "Chevrolet"),
    ("FORD", "Ford"),
    ("HYUNDAI", "Hyundai"),
    ("KIA", "Kia"),
    ("NISSAN", "Nissan"),
    ("RIVIAN", "Rivian"),
    ("TESLA", "Tesla"),
    ("TOYOTA", "Toyota"),
    ("VOLKSWAGEN", "Volkswagen"),
)

#: What each mode means, shown under the sandbox banner.
MODE_NOTES = {
    "test": "Test mode: no real vehicle is involved; any email and password log in.",
    "simulated": "Simulated mode: Smartcar would connect a vehicle from its simulator.",
    "live": "Live mode: Smartcar would ask for the owner's real car-maker account.",
}


def brand_name(make: str | None) -> str:
    """Return the display name of a ``make`` value, such as ``"Tesla"``."""
    if not make:
        return "your car maker"
    return dict(BRANDS).get(make.upper(), make.replace("_", " ").title())


def describe_scope(scope: tuple[str, ...]) -> list[dict[str, Any]]:
    """Return each requested permission with its plain-words description."""
    rows = []
    for name in scope:
        bare, required = split_required(name)
        rows.append(
            {"name": bare, "words": describe_permission(name), "required": required}
        )
    return rows


def render_page(template: str, **context: Any) -> str:
    """Render one page; ``mode`` (or None) picks the banner's mode badge."""
    mode = context.setdefault("mode", None)
    context.setdefault("mode_note", MODE_NOTES.get(mode or ""))
    context.setdefault("brand_name", brand_name)
    return _environment.get_template(template).render(**context)
