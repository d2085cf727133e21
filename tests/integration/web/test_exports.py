"""Exports from the portal, on SQLite and PostgreSQL: who may export, every format checked by the independent
reader (tests/support/export_reader.py) against the ledger, tampering found, formulas made inert."""
from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest

from tests.integration.wallet.conftest import TODAY
from tests.unit.hmrc import pdftext
from tests.support.export_reader import check_against_ledger, read_export
from wallet.domain import payments
from wallet.domain.access_log import access_log

INJECTION = '=HYPERLINK("http://example.com/steal","Click me")'
FIRST, LAST = TODAY - timedelta(days=3), TODAY + timedelta(days=20)


@pytest.fixture
def history(portal):
    """Funding on day one (from the world), then three payments over a week, two of them approved later."""
    w = portal.world
    users = w.users

    def pay(payee, amount, category, description, stream, approver=None, days=2):
        w.clock.advance(days=days)
        made = payments.request_payment(w.uow, w.wallet.id, actor=users["holder"], payee_id=payee.id,
                                        amount=amount, category=category, description=description,
                                        stream_id=stream.id)
        if approver:
            payments.approve_payment(w.uow, made.id, actor=users[approver])
        return made

    pay(w.shop, 4_500, "activities", INJECTION, w.own, approver="appointee")
    pay(w.agency, 2_500, "transport", "-Taxi to the day centre", w.council, approver="appointee2")
    pay(w.agency, 1_234, "transport", "Bus pass @ the station", w.council)     # paid at once: a known payee
    held = pay(w.agency, 30_000, "transport", "Taxis for the month", w.council)  # above the threshold: held
    assert held.status.value == "awaiting_approval"
    return w


def _download(client, wallet_id, fmt, funder="", first=FIRST, last=LAST):
    return client.get(f"/wallets/{wallet_id}/exports/download",
                      query_string={"format": fmt, "start": first.isoformat(), "end": last.isoformat(),
                                    "funder": funder})


def _db(portal):
    return portal.world.uow.db


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json", "pdf"])
def test_every_format_is_complete_and_checks_against_the_ledger(portal, history, fmt):
    client = portal.client("auditor")
    response = _download(client, history.wallet.id, fmt)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert "attachment" in response.headers["Content-Disposition"]
    export = read_export(response.get_data(), fmt)
    assert export.ok, export.problems
    assert check_against_ledger(export, _db(portal)) == []
    m = export.manifest
    assert m["export_id"] == response.headers["X-Export-Id"]
    assert m["wallet"]["id"] == history.wallet.id and m["funder"]["name"] == "All funders"
    assert m["period"] == {"first_day": FIRST.isoformat(), "last_day": LAST.isoformat()}
    assert m["opening_balance"] == 0
    assert m["row_count"] == 5     # two receipts, three payments (the fourth is only held)
    assert m["total_in"] == 186_000 + 12_000 and m["total_out"] == 4_500 + 2_500 + 1_234
    assert m["closing_balance"] == 198_000 - 8_234
    assert m["chain"]["head_hash"] == history.ledger.entry(m["chain"]["last_entry_in_period"]["id"]).hash
    if fmt != "pdf":
        categories = {r.category for r in export.rows}
        assert {"Funding received", "Activities", "Transport"} <= categories
        assert [r.day for r in export.rows] == sorted(r.day for r in export.rows)


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_one_funders_stream_only(portal, history, fmt):
    response = _download(portal.client("council_officer"), history.wallet.id, fmt, funder=history.council.id)
    assert response.status_code == 200
    export = read_export(response.get_data(), fmt)
    assert export.ok, export.problems
    assert check_against_ledger(export, _db(portal)) == []
    assert export.manifest["funder"] == {"id": history.council.id, "name": "Leeds adult social care",
                                         "streams": [{"id": history.council.id, "name": "Leeds adult social care"}]}
    assert [r.money_in or -r.money_out for r in export.rows] == [186_000, -2_500, -1_234]
    assert export.manifest["closing_balance"] == 186_000 - 3_734


def test_a_period_after_some_history_opens_with_the_balance_then(portal, history):
    later = TODAY + timedelta(days=3)
    response = _download(portal.client("holder"), history.wallet.id, "json", first=later, last=LAST)
    export = read_export(response.get_data(), "json")
    assert export.ok, export.problems
    assert check_against_ledger(export, _db(portal)) == []
    assert export.manifest["opening_balance"] == 198_000 - 4_500
    assert export.manifest["row_count"] == 2


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_changing_one_amount_is_found(portal, history, fmt):
    data = _download(portal.client("holder"), history.wallet.id, fmt).get_data()
    if fmt == "json":
        tampered = data.replace(b'"money_out":2500', b'"money_out":250')
    else:
        archive = zipfile.ZipFile(io.BytesIO(data))
        name = next(n for n in archive.namelist() if n != "manifest.json")
        files = {n: archive.read(n) for n in archive.namelist()}
        if fmt == "csv":
            files[name] = files[name].replace(b",25.00,", b",2.50,")
        else:
            inner = zipfile.ZipFile(io.BytesIO(files[name]))
            parts = {n: inner.read(n) for n in inner.namelist()}
            sheet = next(n for n in parts if n.startswith("xl/worksheets/"))
            assert b"<v>25.00</v>" in parts[sheet]      # amounts are exact decimal text
            parts[sheet] = parts[sheet].replace(b"<v>25.00</v>", b"<v>2.50</v>", 1)
            files[name] = _zip(parts)
        tampered = _zip(files)
    assert tampered != data
    export = read_export(tampered, fmt)
    assert not export.ok
    assert any("checksum" in p for p in export.problems)
    assert any("running balance" in p or "totals" in p for p in export.problems)


def _zip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_a_row_dropped_and_the_manifest_redone_is_still_found_against_the_ledger(portal, history):
    """Someone who rewrites the manifest too passes the file's own checks, but not the ledger's."""
    data = _download(portal.client("holder"), history.wallet.id, "json").get_data()
    bundle = json.loads(data)
    dropped = bundle["entries"].pop()
    bundle["manifest"]["row_count"] -= 1
    bundle["manifest"]["total_out"] -= dropped["money_out"]
    bundle["manifest"]["closing_balance"] += dropped["money_out"]
    bundle["closing_balance"] = bundle["manifest"]["closing_balance"]
    import hashlib
    bundle["manifest"]["entries_sha256"] = hashlib.sha256(b"".join(
        (json.dumps(e, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n").encode()
        for e in bundle["entries"])).hexdigest()
    export = read_export(json.dumps(bundle).encode(), "json")
    assert export.ok, export.problems
    problems = check_against_ledger(export, _db(portal))
    assert any("completeness" in p for p in problems)


def test_formulas_come_out_inert_in_csv_and_xlsx(portal, history):
    client = portal.client("holder")
    csv_zip = zipfile.ZipFile(io.BytesIO(_download(client, history.wallet.id, "csv").get_data()))
    text = csv_zip.read("transactions.csv").decode("utf-8-sig")
    assert "'" + INJECTION.replace('"', '""') in text
    assert ",'-Taxi to the day centre (Bright Care)," in text
    for line in text.splitlines()[1:]:
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in line.split(","))
    xlsx_zip = zipfile.ZipFile(io.BytesIO(_download(client, history.wallet.id, "xlsx").get_data()))
    book = zipfile.ZipFile(io.BytesIO(xlsx_zip.read("statement.xlsx")))
    sheets = [n for n in book.namelist() if n.startswith("xl/worksheets/sheet")]
    for name in sheets:
        assert b"<f>" not in book.read(name) and b"<f " not in book.read(name)
    first = book.read(sheets[0]).decode()
    assert 't="inlineStr"><is><t>=HYPERLINK(&quot;http://example.com/steal&quot;,&quot;Click me&quot;)' in first \
        or 't="inlineStr"><is><t>=HYPERLINK("http://example.com/steal","Click me")' in first
    export = read_export(xlsx_zip_bytes := _download(client, history.wallet.id, "xlsx").get_data(), "xlsx")
    assert export.ok, export.problems
    assert any(r.description.startswith(INJECTION) for r in export.rows)
    assert xlsx_zip_bytes


def test_the_pdf_statement_is_tagged_with_headings_and_table_headers(portal, history):
    from wallet.exports import plan_export, statement_html

    plan = plan_export(history.uow, history.wallet.id, actor=history.users["holder"], fmt="pdf", first_day=FIRST,
                       last_day=LAST)
    html = statement_html(_db(portal), plan)
    assert '<html lang="en-GB">' in html and "<title>Statement for Asha&#39;s budget" in html
    assert html.count("<h1>") == 1 and html.count("<h2>") == 3
    assert '<th scope="col">Date</th>' in html and '<th scope="row">Balance at the end</th>' in html
    assert "<caption>" in html
    assert "=HYPERLINK(&#34;" in html or "=HYPERLINK(&quot;" in html   # escaped, as text
    pdf = zipfile.ZipFile(io.BytesIO(_download(portal.client("holder"), history.wallet.id, "pdf").get_data()))
    structure = pdftext.everything(pdf.read("statement.pdf"))
    for marker in (b"/StructTreeRoot", b"/MarkInfo", b"/Lang (en-GB)", b"/H1", b"/H2", b"/Table", b"/TH",
                   b"/Caption"):
        assert marker in structure, marker


def test_a_pdf_is_bounded_and_says_so(portal, history, monkeypatch):
    from wallet.web import views_exports

    real = views_exports.pdf_export
    monkeypatch.setattr(views_exports, "pdf_export", lambda db, plan, **more: real(db, plan, limit=2, **more))
    response = _download(portal.client("holder"), history.wallet.id, "pdf")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "A PDF statement can hold up to 2 lines" in page and "CSV or Excel" in page


# ---------------------------------------------------------------------- who may export
def test_roles_with_export_may_export_and_it_is_logged(portal, history):
    for who in ("holder", "appointee", "manager", "auditor", "council_officer"):
        client = portal.client(who)
        assert client.get(f"/wallets/{history.wallet.id}/exports").status_code == 200, who
        assert _download(client, history.wallet.id, "csv").status_code == 200, who
        log = access_log(history.uow, history.wallet.id, actor=history.users["holder"])
        assert any(r.actor == history.users[who] and r.action == "export" and r.outcome == "done"
                   and "csv export" in r.detail for r in log), who


def test_roles_without_export_get_403_and_the_attempt_is_logged(portal, history):
    """A family overseer, a payroll admin, a stranger, and a council officer of a council that does not fund
    this wallet."""
    for who in ("overseer", "payroll_admin", "stranger", "other_council_officer"):
        client = portal.client(who)
        assert client.get(f"/wallets/{history.wallet.id}/exports").status_code == 403, who
        assert _download(client, history.wallet.id, "csv").status_code == 403, who
        assert _download(client, history.wallet.id, "json").status_code == 403, who
        assert client.get(f"/api/v1/wallets/{history.wallet.id}/export").status_code == 403, who
        log = access_log(history.uow, history.wallet.id, actor=history.users["holder"])
        assert any(r.actor == history.users[who] and r.action == "export" and r.outcome == "denied"
                   for r in log), who


def test_signed_out_people_are_sent_to_sign_in_or_refused(portal, history):
    response = portal.client(None).get(f"/wallets/{history.wallet.id}/exports")
    assert response.status_code in (302, 401)


def test_unknown_wallet_is_404(portal, history):
    assert portal.client("holder").get("/wallets/no-such-wallet/exports").status_code == 404


# ---------------------------------------------------------------------- the page
def test_the_export_page_is_a_plain_accessible_form(portal, history):
    page = portal.client("auditor").get(f"/wallets/{history.wallet.id}/exports").get_data(as_text=True)
    assert "<h1>Download records</h1>" in page
    assert '<form method="get"' in page and "<script" not in page.split("<main")[1].split("</main>")[0]
    assert "<fieldset" in page and "<legend>" in page
    for field in ("format", "start", "end", "funder"):
        assert f'id="{field}"' in page and f'for="{field}"' in page
    assert "Leeds adult social care" in page and "Own contribution" in page


def test_form_mistakes_are_shown_on_the_page(portal, history):
    response = portal.client("holder").get(
        f"/wallets/{history.wallet.id}/exports/download",
        query_string={"format": "docx", "start": "2026-05-01", "end": "2026-04-01", "funder": "nope"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "There is a problem" in page and "Choose a format" in page
    assert "The period must end on or after the day it starts" in page
    assert 'href="#format"' in page and 'aria-invalid="true"' in page
    response = portal.client("manager").get(
        f"/wallets/{history.wallet.id}/exports/download",
        query_string={"format": "csv", "start": "2026-04-01", "end": "2026-05-01", "funder": "nope"})
    assert response.status_code == 400
    assert "Choose one of this wallet" in response.get_data(as_text=True)
