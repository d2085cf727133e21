"""Documents for people, rendered once: a Jinja environment per template folder, and HTML to tagged PDF.

Every document the service gives people (payslips and cost summaries here; P60, P45 and P32 in
``hmrc_export.documents``) is one Jinja template rendered to HTML for the portal and, from the same HTML, to a
tagged PDF: WeasyPrint's PDF/UA-1 variant, with a structure tree, the document title from ``<title>``, the
language from ``<html lang="en-GB">``, and real headings and table headers. ``payroll`` is the lower layer, so
the generic part lives here and ``hmrc_export`` imports it.
"""
from __future__ import annotations

from datetime import date
from decimal import ROUND_DOWN, Decimal
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

PDF_VARIANT = "pdf/ua-1"
_HUNDREDTH = Decimal("0.01")


def format_money(pence: int) -> str:
    """1234567 -> '£12,345.67'; -5 -> '-£0.05'. Integer arithmetic only."""
    if not isinstance(pence, int) or isinstance(pence, bool):
        raise TypeError(f"money must be an int of pence, not {type(pence).__name__}")
    pounds, rem = divmod(abs(pence), 100)
    return f"{'-' if pence < 0 else ''}£{pounds:,}.{rem:02d}"


def format_long_date(day: date | None) -> str:
    """date(2026, 5, 29) -> '29 May 2026' (no leading zero, as GOV.UK writes dates)."""
    return f"{day.day} {day:%B %Y}" if day else ""


def format_hours(hours: Decimal | int | None) -> str:
    """Hours to the hundredth, truncated (ROUND_DOWN) as the payroll stores them: Decimal('7.5') -> '7.50'."""
    if hours is None:
        return ""
    return f"{Decimal(hours).quantize(_HUNDREDTH, rounding=ROUND_DOWN):,}"


@lru_cache(maxsize=None)
def environment(template_dir: str | Path) -> Environment:
    """The Jinja environment for one template folder, with the filters every document uses.

    Autoescaping is on for HTML, undefined names are errors (a document must never show a blank where a figure
    belongs), and ``money``, ``longdate`` and ``hours`` format figures for people.
    """
    env = Environment(loader=FileSystemLoader(str(template_dir)), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["money"] = format_money
    env.filters["longdate"] = format_long_date
    env.filters["hours"] = format_hours
    return env


def render_template(template_dir: str | Path, name: str, **context: object) -> str:
    return environment(str(template_dir)).get_template(name).render(**context)


def html_to_pdf(html: str, *, base_url: str | Path | None = None) -> bytes:
    """A tagged PDF (PDF/UA-1) of the HTML: structure tree, title and language come from the document."""
    from weasyprint import HTML  # imported late: loading Pango costs time the HTML and XML paths do not need

    return HTML(string=html, base_url=str(base_url) if base_url is not None else None).write_pdf(
        pdf_variant=PDF_VARIANT)
