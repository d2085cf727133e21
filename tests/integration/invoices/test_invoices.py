"""Provider invoices: checked against the agreed rate and hours, approved by a second person, paid, marked paid;
the same invoice refused twice."""
from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from ledger.tables import hold_t
from tests.integration.evidence import files
from wallet.domain import invoices, payments
from wallet.domain.chart import Category
from wallet.domain.errors import InvalidRequest, PermissionDenied, SelfApprovalRefused
from wallet.domain.invoices import DuplicateInvoice, InvoiceFlag, InvoiceNotApproved, InvoiceStatus
from wallet.domain.schedules import PlanPeriod
from wallet.domain.tables import invoice_t
from wallet.evidence import service as evidence

D = Decimal
F = InvoiceFlag


# ---------------------------------------------------------------------- the checks, pure
@pytest.mark.parametrize("hours, rate, amount, agreed, allowance, overlaps, flags", [
    ("10", 2_000, 20_000, 2_000, "15", False, ()),
    ("10", 1_900, 19_000, 2_000, "15", False, ()),                      # cheaper than agreed is fine
    ("10", 2_100, 21_000, 2_000, "15", False, (F.RATE_RISE,)),
    ("15.01", 2_000, 30_020, 2_000, "15", False, (F.HOURS_BEYOND_PLAN,)),
    ("15", 2_000, 30_000, 2_000, "15", False, ()),                      # exactly the plan's hours
    ("10", 2_000, 20_500, 2_000, "15", False, (F.AMOUNT_NOT_HOURS_TIMES_RATE,)),
    ("7.25", 1_999, 14_493, 1_999, "15", False, ()),                    # 14,492.75p rounds half up
    ("10", 2_000, 20_000, None, None, False, (F.NO_AGREED_RATE,)),
    ("16", 2_100, 30_000, 2_000, "15", True,
     (F.RATE_RISE, F.HOURS_BEYOND_PLAN, F.AMOUNT_NOT_HOURS_TIMES_RATE, F.OVERLAPS_ANOTHER_INVOICE)),
])
def test_the_checks(hours, rate, amount, agreed, allowance, overlaps, flags):
    assert invoices.check_invoice(hours=D(hours), hourly_rate=rate, amount=amount, agreed_rate=agreed,
                                  allowance=D(allowance) if allowance else None, overlaps=overlaps) == flags


def test_the_plans_hours_are_prorated_by_day_across_plan_periods():
    start = date(2026, 4, 6)
    four_weekly = PlanPeriod.FOUR_WEEKLY
    assert invoices.allowed_hours(D("15"), four_weekly, start, date(2026, 4, 6), date(2026, 5, 3)) == D("15")
    assert invoices.allowed_hours(D("15"), four_weekly, start, date(2026, 4, 6), date(2026, 4, 19)) == D("7.5")
    # 14 days of each of two periods; and a calendar month of a four-weekly plan (31/28 of a period).
    assert invoices.allowed_hours(D("15"), four_weekly, start, date(2026, 4, 20), date(2026, 5, 17)) == D("15")
    assert invoices.allowed_hours(D("14"), four_weekly, start, date(2026, 5, 1), date(2026, 5, 31)) == D("15.5")
    # Days before the plan began are not in the plan.
    assert invoices.allowed_hours(D("15"), four_weekly, start, date(2026, 3, 9), date(2026, 4, 5)) == D("0")


@pytest.mark.parametrize("text_in, words", [("0", "more than zero"), ("-3", "more than zero"),
                                            ("1.005", "two decimal places"), ("ten", "a number"),
                                            ("5001", "5000 or fewer"), (Decimal(1) / 3, "two decimal places"),
                                            (object(), "written as a number")])
def test_hours_are_exact(text_in, words):
    with pytest.raises(InvalidRequest, match=words):
        invoices.parse_hours(text_in)


# ---------------------------------------------------------------------- the life of an invoice
def test_an_invoice_that_matches_is_approved_paid_and_marked_paid(agency):
    w = agency.world
    document = files.pdf("Bright Care invoice INV-001")
    sha = hashlib.sha256(document).hexdigest()
    inv = agency.record("manager", document=document, document_name="INV-001.pdf", store=agency.store)
    assert inv.flags == () and inv.status is InvoiceStatus.AWAITING_APPROVAL
    assert set(inv.approval_reasons) == {"on_behalf", "new_payee"}       # the usual two-person rules
    assert (inv.agreed_rate, inv.allowed_hours, inv.hours) == (2_000, D("15"), D("10"))
    assert w.cash(w.council).held == 20_000                              # the money is kept back
    assert [e.sha256 for e in inv.evidence] == [sha]
    with w.uow.db.read() as conn:
        hold_meta = conn.execute(select(hold_t.c.meta).where(
            hold_t.c.uuid == payments.get_payment_request(w.uow, inv.payment_request_id,
                                                          actor=w.users["holder"]).hold_id)).scalar_one()
    assert hold_meta["evidence"] == [{"sha256": sha, "kind": "invoice"}] and hold_meta["invoice"] == inv.id

    with pytest.raises(PermissionDenied):
        invoices.approve_invoice(w.uow, w.wallet.id, inv.id, actor=w.users["manager"])
    with pytest.raises(InvoiceNotApproved, match="only an approved invoice"):
        invoices.mark_invoice_paid(w.uow, w.wallet.id, inv.id, actor=w.users["manager"], paid_on=date(2026, 4, 6))
    approved = invoices.approve_invoice(w.uow, w.wallet.id, inv.id, actor=w.users["appointee"])
    assert approved.status is InvoiceStatus.APPROVED and approved.entry_id is not None
    entry = w.ledger.entry(approved.entry_id)
    assert entry.metadata["evidence"] == [{"sha256": sha, "kind": "invoice"}]   # in the entry's own hash
    assert w.spent(Category.AGENCY, w.council) == 20_000
    page = evidence.entry_evidence(w.uow, w.wallet.id, entry.id, actor=w.users["holder"])
    assert [(e.sha256, e.in_entry_metadata, e.invoice_id) for e in page.evidence] == [(sha, True, inv.id)]

    paid = invoices.mark_invoice_paid(w.uow, w.wallet.id, inv.id, actor=w.users["manager"],
                                      paid_on=date(2026, 4, 6), reference="BACS 123")
    assert (paid.status, paid.paid_on, paid.paid_reference) == (InvoiceStatus.PAID, date(2026, 4, 6), "BACS 123")
    with pytest.raises(InvoiceNotApproved, match="already marked paid"):
        invoices.mark_invoice_paid(w.uow, w.wallet.id, inv.id, actor=w.users["manager"], paid_on=date(2026, 4, 6))
    assert evidence.verify_evidence(w.uow.db, agency.store).ok


def test_a_flagged_invoice_always_waits_for_a_second_person(agency):
    w = agency.world
    first = agency.record("holder", number="INV-001")
    invoices.approve_invoice(w.uow, w.wallet.id, first.id, actor=w.users["appointee"])
    # The agency has been paid before, the holder asks, the plan has room: a clean invoice goes straight through.
    clean = agency.record("holder", number="INV-002", first=date(2026, 5, 4), last=date(2026, 5, 31))
    assert (clean.flags, clean.approval_reasons, clean.status) == ((), (), InvoiceStatus.APPROVED)
    # The same with a higher rate, or more hours than the plan, waits: for the invoice's checks alone.
    risen = agency.record("holder", number="INV-003", rate=2_200, first=date(2026, 6, 1), last=date(2026, 6, 28))
    assert (risen.flags, risen.approval_reasons) == ((F.RATE_RISE,), ("invoice_check",))
    assert risen.status is InvoiceStatus.AWAITING_APPROVAL
    beyond = agency.record("holder", number="INV-004", hours="12", first=date(2026, 6, 29),
                           last=date(2026, 7, 12))
    assert beyond.allowed_hours == D("7.5")
    assert (beyond.flags, beyond.approval_reasons) == ((F.HOURS_BEYOND_PLAN,), ("invoice_check",))
    overlapping = agency.record("holder", number="INV-005", hours="1", first=date(2026, 5, 20),
                                last=date(2026, 5, 21))
    assert overlapping.flags == (F.OVERLAPS_ANOTHER_INVOICE,)
    with pytest.raises(SelfApprovalRefused):
        invoices.approve_invoice(w.uow, w.wallet.id, risen.id, actor=w.users["holder"])
    rejected = invoices.reject_invoice(w.uow, w.wallet.id, risen.id, actor=w.users["appointee"],
                                       reason="The agreed rate is £20.00")
    assert rejected.status is InvoiceStatus.REJECTED
    # Only the two still waiting are held.
    assert w.cash(w.council).held == 24_000 + 2_000


def test_an_invoice_without_an_agreed_rate_waits(agency):
    w = agency.world
    inv = invoices.record_invoice(
        w.uow, w.wallet.id, actor=w.users["holder"], payee_id=w.shop.id, budget_line_id=agency.line_id,
        number="7781", invoice_date=date(2026, 4, 1), period_start=date(2026, 4, 1), period_end=date(2026, 4, 1),
        hours="2", hourly_rate=1_500, amount=3_000)
    assert inv.flags == (F.NO_AGREED_RATE,) and "invoice_check" in inv.approval_reasons


def test_the_same_invoice_is_refused_twice(agency):
    w = agency.world
    first = agency.record("manager", number="INV-001")
    held = w.cash(w.council).held
    with pytest.raises(DuplicateInvoice, match="inv 001 from Bright Care for this amount was already recorded"):
        agency.record("manager", number=" inv 001 ")
    with pytest.raises(DuplicateInvoice):
        agency.record("holder", number="INV-001")            # whoever records it
    assert w.cash(w.council).held == held                     # nothing was held for the refused copies
    # The same number for another amount is another invoice (flagged: it covers the same days).
    other = agency.record("manager", number="INV-001", hours="1")
    assert other.flags == (F.OVERLAPS_ANOTHER_INVOICE,)
    # The database refuses a duplicate even if the check were skipped.
    with pytest.raises(IntegrityError):
        with w.uow.db.engine.begin() as conn:
            row = conn.execute(select(invoice_t).where(invoice_t.c.uuid == first.id)).one()._asdict()
            row.pop("id")
            other_request = conn.execute(select(invoice_t.c.payment_request_id)
                                         .where(invoice_t.c.uuid == other.id)).scalar_one()
            conn.execute(invoice_t.insert(), {**row, "uuid": "copy", "payment_request_id": other_request + 1000})


def test_a_repeat_with_the_same_key_returns_the_first_invoice(agency):
    first = agency.record("manager", number="INV-001", key="form-1")
    again = agency.record("manager", number="INV-001", key="form-1")
    assert again.id == first.id
    with pytest.raises(DuplicateInvoice):
        agency.record("manager", number="INV-001", key="form-2")


def test_who_may_record_and_what(agency):
    w = agency.world
    for who in ("overseer", "auditor", "payroll_admin", "council_officer", "stranger"):
        with pytest.raises(PermissionDenied):
            agency.record(who)
    with pytest.raises(InvalidRequest, match="personal assistant, paid through payroll"):
        invoices.record_invoice(
            w.uow, w.wallet.id, actor=w.users["holder"], payee_id=w.pa.id, budget_line_id=agency.line_id,
            number="1", invoice_date=date(2026, 4, 1), period_start=date(2026, 4, 1), period_end=date(2026, 4, 1),
            hours="1", hourly_rate=1_500, amount=1_500)
    with pytest.raises(InvalidRequest, match="last day invoiced must be on or after"):
        agency.record(first=date(2026, 4, 10), last=date(2026, 4, 9))
    with pytest.raises(InvalidRequest, match="cannot be in the future"):
        invoices.record_invoice(
            w.uow, w.wallet.id, actor=w.users["holder"], payee_id=w.agency.id, budget_line_id=agency.line_id,
            number="1", invoice_date=date(2026, 4, 7), period_start=date(2026, 4, 1), period_end=date(2026, 4, 1),
            hours="1", hourly_rate=2_000, amount=2_000)
    with pytest.raises(InvalidRequest):
        agency.record(document=files.HTML, store=agency.store)
    assert invoices.invoices(w.uow, w.wallet.id, actor=w.users["holder"]) == []
    with w.uow.db.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM wallet_payment_request")).scalar() == 0
