"""Audit and council exports of a wallet (or one funder's money in it) over a period.

Formats: CSV and XLSX and a PDF statement, each in a ZIP with ``manifest.json``; and a JSON bundle that carries
its manifest inside. Every export holds the opening and closing balances, every entry of the period (date, entry
id, description, reference, funder, category, money in, money out, running balance, the entry's hash) and a
manifest to check it is complete and unaltered (see ``manifest``).

- ``source``: who may export (``plan_export``: ``Action.EXPORT``, logged) and the lines, streamed by one
  indexed query per export inside one read snapshot;
- ``manifest``: the running tally and the manifest built from it;
- ``writers``: the formats, streamed in constant memory (the PDF is bounded).

No Flask here: the portal (``wallet.web.views_exports``) and the API stream what the writers yield.
"""
from wallet.exports.source import ExportFormat, ExportLine, ExportPlan, Snapshot, plan_export
from wallet.exports.writers import (MAX_PDF_LINES, ExportFailed, TooLargeForPdf, content_type, file_name,
                                    pdf_export, statement_html, stream_export)

__all__ = ["ExportFormat", "ExportLine", "ExportPlan", "Snapshot", "plan_export", "MAX_PDF_LINES", "ExportFailed",
           "TooLargeForPdf", "content_type", "file_name", "pdf_export", "statement_html", "stream_export"]
