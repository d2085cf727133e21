"""`wallet evidence ...`: prove that the evidence kept for the wallets' entries is complete and unaltered."""
from __future__ import annotations

import sys

import click

from wallet.config import database_url, evidence_dir
from wallet.database import open_database
from wallet.evidence.service import verify_evidence
from wallet.evidence.storage import EvidenceStore


@click.group(help="Receipts, invoices, timesheets and payslips kept as evidence.")
def evidence() -> None:
    pass


@evidence.command(help="Re-hash every stored evidence file against its recorded SHA-256, recompute each wallet's "
                       "evidence chain and check invoice documents against the ledger; exit 1 on any mismatch.")
@click.option("--store", "store_dir", envvar="WALLET_EVIDENCE_DIR", default=None,
              help="The evidence folder (default: WALLET_EVIDENCE_DIR, or ./instance/evidence).")
@click.pass_context
def verify(ctx: click.Context, store_dir: str | None) -> None:
    db = open_database(ctx.obj.get("database_url") or database_url())
    try:
        report = verify_evidence(db, EvidenceStore(store_dir or evidence_dir()))
    finally:
        db.dispose()
    counts = f"{report.records} records in {report.wallets} wallets, {report.files} files"
    if report.ok:
        click.echo(f"OK: {counts} checked; every hash agrees.")
        return
    for problem in report.problems:
        click.echo(f"MISMATCH: {problem}", err=True)
    click.echo(f"{len(report.problems)} problems found; {counts} checked.", err=True)
    sys.exit(1)
