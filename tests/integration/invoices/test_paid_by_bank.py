"""An invoice from a provider paid by bank: approved, it waits for its payment batch; it cannot be marked paid
by hand meanwhile, and confirming its batch line is what makes it paid. On SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import date

import pytest
from cryptography.fernet import Fernet

from payroll.sealed import FieldCipher
from wallet.domain import invoices, payment_batches, supplier_payables
from wallet.domain.invoices import InvoiceNotApproved, InvoiceStatus
from wallet.domain.unit_of_work import SYSTEM


def test_an_invoice_paid_by_bank_is_paid_when_its_batch_line_is_confirmed(agency):
    w = agency.world
    cipher = FieldCipher([Fernet.generate_key()])
    supplier_payables.set_bank_account(w.uow, w.wallet.id, w.agency.id, actor=w.users["holder"], cipher=cipher,
                                       sort_code="11-22-33", account_number="44556677", reference="inv-001")
    inv = agency.record()
    approved = invoices.approve_invoice(w.uow, w.wallet.id, inv.id, actor=w.users["appointee"])
    assert approved.status is InvoiceStatus.APPROVED
    with pytest.raises(InvoiceNotApproved, match="awaiting its bank payment"):
        invoices.mark_invoice_paid(w.uow, w.wallet.id, inv.id, actor=w.users["manager"], paid_on=date(2026, 4, 6))
    assert invoices.get_invoice(w.uow, w.wallet.id, inv.id, actor=w.users["holder"]).paid_on is None

    batch = payment_batches.create_batch(w.uow, w.wallet.id, actor=SYSTEM, payees={}, cipher=cipher)
    assert [line.amount for line in batch.lines] == [inv.amount]
    payment_batches.export_batch(w.uow, batch.id, actor=SYSTEM, cipher=cipher, file_format="csv")
    payment_batches.confirm_paid(w.uow, batch.id, actor=SYSTEM, paid_on=date(2026, 4, 6))
    paid = invoices.get_invoice(w.uow, w.wallet.id, inv.id, actor=w.users["holder"])
    assert paid.status is InvoiceStatus.PAID and paid.paid_on is not None and paid.paid_by == "payment batch"
    with pytest.raises(InvoiceNotApproved, match="already marked paid"):
        invoices.mark_invoice_paid(w.uow, w.wallet.id, inv.id, actor=w.users["manager"], paid_on=date(2026, 4, 6))
