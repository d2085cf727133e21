"""The manifest: what an export holds and how to check it is complete and unaltered.

One function builds it for every format, from the same running tally the writers keep while they stream:

* ``row_count``, ``opening_balance``, ``closing_balance`` (= opening + money in - money out), ``total_in`` and
  ``total_out``, all in whole pence;
* ``files``: the SHA-256 and size of each data file in the ZIP (CSV, XLSX, PDF); or, for the JSON bundle,
  ``entries_sha256``: the SHA-256 of the entries as written (each entry's JSON with sorted keys and no spaces,
  UTF-8, followed by a newline), since a file cannot carry its own checksum;
* ``chain``: the wallet's ledger book when the export began (``head_sequence``, ``head_hash``), and the entry
  of the period recorded last (the highest sequence among the exported lines: ``last_entry_in_period``). Anyone
  with the ledger can check later that the book still has that hash at that sequence (``ledger.verify`` proves
  the chain up to its head), and every exported line carries its own entry hash;
* ``evidence``: how many evidence records (receipts, invoices, timesheets, payslips) the period's entries have.
  A ZIP holds their listing (``evidence.json``) and the files themselves (``evidence/<sha256>.<ext>``), each in
  ``files`` with its SHA-256; the JSON bundle holds the listing (``"evidence"``) and its ``listing_sha256``.
  Each item names its entry, the file's recorded SHA-256 and the evidence record's chain hash.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

from wallet.exports.source import ChainHead, ExportLine, ExportPlan

MANIFEST_VERSION = 1


@dataclass
class Tally:
    """Kept while lines go by: counts, totals and the last entry in the chain. Constant memory."""

    opening: int
    rows: int = 0
    total_in: int = 0
    total_out: int = 0
    last_sequence: int = 0
    last_entry_id: str | None = None
    last_entry_hash: str | None = None
    files: list[dict[str, Any]] = field(default_factory=list)

    @property
    def closing(self) -> int:
        return self.opening + self.total_in - self.total_out

    def count(self, lines: Iterable[ExportLine]) -> Iterator[ExportLine]:
        for line in lines:
            self.rows += 1
            self.total_in += line.money_in
            self.total_out += line.money_out
            if line.sequence > self.last_sequence:
                self.last_sequence, self.last_entry_id, self.last_entry_hash = (
                    line.sequence, line.entry_id, line.entry_hash)
            yield line

    def add_file(self, name: str, sha256: str, size: int) -> None:
        self.files.append({"name": name, "sha256": sha256, "bytes": size})


def build_manifest(plan: ExportPlan, head: ChainHead, tally: Tally, *,
                   entries_sha256: str | None = None, evidence: dict[str, Any] | None = None) -> dict[str, Any]:
    manifest: dict[str, Any] = {
        "manifest_version": MANIFEST_VERSION,
        "export_id": plan.export_id,
        "format": plan.format.value,
        "wallet": {"id": plan.wallet_id, "name": plan.wallet_name, "reference": plan.wallet_reference},
        "funder": {"id": plan.stream_id, "name": plan.funder_label,
                   "streams": [{"id": s.id, "name": s.label} for s in plan.streams]},
        "period": {"first_day": plan.first_day.isoformat(), "last_day": plan.last_day.isoformat()},
        "generated_at": plan.generated_at.isoformat(),
        "generated_by": plan.generated_by,
        "currency": plan.currency,
        "amounts_in": "pence",
        "row_count": tally.rows,
        "opening_balance": tally.opening,
        "total_in": tally.total_in,
        "total_out": tally.total_out,
        "closing_balance": tally.closing,
        "chain": {
            "book": head.book,
            "head_sequence": head.sequence,
            "head_hash": head.hash,
            "last_entry_in_period": None if tally.last_entry_id is None else {
                "id": tally.last_entry_id, "sequence": tally.last_sequence, "hash": tally.last_entry_hash},
        },
    }
    if evidence is not None:
        manifest["evidence"] = evidence
    if entries_sha256 is not None:
        manifest["entries_sha256"] = entries_sha256
    else:
        manifest["files"] = list(tally.files)
    return manifest
