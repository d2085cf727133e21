"""`wallet bank import` prints its progress and a summary; a bad file exits 2 with the line, writing nothing."""
from __future__ import annotations

from click.testing import CliRunner

from tests.integration.bank import samples
from tests.integration.bank.conftest import statement_rows
from wallet.cli import cli


def run(url, *args):
    return CliRunner().invoke(cli, ["--database-url", url, *args])


def test_import_from_the_command_line(books, database_url, tmp_path):
    statement = tmp_path / "april.csv"
    statement.write_bytes(samples.lloyds_csv(statement_rows()))
    first = run(database_url, "bank", "import", "case-1", str(statement))
    assert first.exit_code == 0, first.output
    for words in ("Reading april.csv", "Read 6 transactions (Lloyds)",
                  "6 new lines, 0 imported before; matching against the books",
                  "new:               6", "duplicate:         0", "matched:           2", "suggested:         3",
                  "unmatched:         1", "difference -£5.00", "an alert has been raised"):
        assert words in first.output, words
    again = run(database_url, "bank", "import", books.world.wallet.id, str(statement), "--bank", "Lloyds")
    assert again.exit_code == 0, again.output
    assert "new:               0" in again.output and "duplicate:         6" in again.output


def test_a_bad_file_or_an_unknown_layout_exits_2(books, database_url, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"Date,Description,Amount\n06/04/2026,Shop,lots\n")
    refused = run(database_url, "bank", "import", "case-1", str(bad))
    assert refused.exit_code == 2 and "line 2: the amount 'lots' is not an amount of money" in refused.output
    assert "Nothing was imported" in refused.output
    odd = tmp_path / "coop.csv"
    odd.write_bytes(samples.custom_csv(statement_rows()))
    unknown = run(database_url, "bank", "import", "case-1", str(odd))
    assert unknown.exit_code == 2 and "Posted, Narrative, Value (GBP), Our ref" in unknown.output
    assert run(database_url, "bank", "import", "no-such-case", str(odd)).exit_code == 1


def test_the_monthly_report_from_the_command_line(books, database_url, tmp_path):
    out = tmp_path / "april.pdf"
    made = run(database_url, "report", "monthly", "case-1", "--month", "2026-04", "--out", str(out), "--send")
    assert made.exit_code == 0, made.output
    assert "Monthly report for Asha's budget, April 2026" in made.output and "Sent to 3 people" in made.output
    assert out.read_bytes().startswith(b"%PDF-")
