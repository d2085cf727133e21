"""Who a wallet pays: personal assistants (linked to their payroll employee record), agencies and suppliers.

A payee belongs to one wallet. Whether a payee is new (never paid from this wallet) matters: the first payment
to anyone always needs a second person's approval (see ``wallet.domain.payments``).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, select, update

from wallet.domain.errors import Conflict, InvalidRequest, UnknownPayee
from wallet.domain.permissions import Action, require
from wallet.domain.tables import payee_t, payment_request_t
from wallet.domain.unit_of_work import Tx, UnitOfWork


class PayeeKind(str, enum.Enum):
    PA = "pa"
    AGENCY = "agency"
    SUPPLIER = "supplier"


@dataclass(frozen=True)
class Payee:
    id: str
    wallet_id: str
    kind: PayeeKind
    name: str
    employee_id: str | None
    reference: str | None
    active: bool


def payee_from_row(row: Any, wallet_id: str) -> Payee:
    return Payee(row.uuid, wallet_id, PayeeKind(row.kind), row.name, row.employee_id, row.reference, row.active)


def payee_row(tx: Tx, wallet_row: Any, payee_id: str) -> Any:
    row = tx.conn.execute(select(payee_t).where(and_(payee_t.c.uuid == payee_id,
                                                     payee_t.c.wallet_id == wallet_row.id))).first()
    if row is None:
        raise UnknownPayee(f"this wallet has no payee {payee_id}")
    return row


def has_been_paid(tx: Tx, payee_pk: int) -> bool:
    return tx.conn.execute(select(payment_request_t.c.id).where(and_(
        payment_request_t.c.payee_id == payee_pk, payment_request_t.c.status == "paid")).limit(1)).first() is not None


def add_payee(uow: UnitOfWork, wallet_id: str, *, kind: PayeeKind | str, name: str, actor: str,
              employee_id: str | None = None, reference: str | None = None) -> Payee:
    """Add a payee, or return the one of this kind and name the wallet already has (if the rest agrees)."""
    kind = PayeeKind(kind)
    name = name.strip()
    if not name:
        raise InvalidRequest("a payee needs a name")
    if employee_id is not None and kind is not PayeeKind.PA:
        raise InvalidRequest("only a personal assistant has a payroll employee record")

    def work(tx: Tx) -> Payee:
        wallet = tx.wallet_row(wallet_id, lock=True)
        require(tx, actor, Action.MANAGE_PAYEES, wallet, f"add payee {name}", system_allowed=True)
        row = tx.conn.execute(select(payee_t).where(and_(
            payee_t.c.wallet_id == wallet.id, payee_t.c.kind == kind.value, payee_t.c.name == name))).first()
        if row is not None:
            if (row.employee_id, row.reference) != (employee_id, reference):
                raise Conflict(f"this wallet already has a {kind.value} called {name} with other details")
            if not row.active:
                tx.conn.execute(update(payee_t).where(payee_t.c.id == row.id).values(active=True))
            return payee_from_row(payee_row(tx, wallet, row.uuid), wallet.uuid)
        payee_id = tx.new_id()
        tx.conn.execute(payee_t.insert(), dict(
            uuid=payee_id, wallet_id=wallet.id, kind=kind.value, name=name, employee_id=employee_id,
            reference=reference, active=True, created_by=actor, created_us=tx.now_us()))
        return payee_from_row(payee_row(tx, wallet, payee_id), wallet.uuid)

    return uow.write(work)


def deactivate_payee(uow: UnitOfWork, wallet_id: str, payee_id: str, *, actor: str) -> Payee:
    """Stop paying someone: no new payment requests to them (their history stays)."""

    def work(tx: Tx) -> Payee:
        wallet = tx.wallet_row(wallet_id, lock=True)
        require(tx, actor, Action.MANAGE_PAYEES, wallet, f"deactivate payee {payee_id}", system_allowed=True)
        row = payee_row(tx, wallet, payee_id)
        tx.conn.execute(update(payee_t).where(payee_t.c.id == row.id).values(active=False))
        return payee_from_row(payee_row(tx, wallet, payee_id), wallet.uuid)

    return uow.write(work)


def payees(uow: UnitOfWork, wallet_id: str, *, actor: str) -> list[Payee]:
    def work(tx: Tx) -> list[Payee]:
        wallet = tx.wallet_row(wallet_id)
        require(tx, actor, Action.VIEW_TRANSACTIONS, wallet, "payees", system_allowed=True)
        rows = tx.conn.execute(select(payee_t).where(payee_t.c.wallet_id == wallet.id).order_by(payee_t.c.id))
        return [payee_from_row(r, wallet.uuid) for r in rows]

    return uow.write(work)
