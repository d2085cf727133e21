"""Suppliers paid by bank transfer: their bank details, and what the wallet owes them until a payment batch pays.

A payee that is not a PA (an agency, an activity provider) is paid by bank once its account is on file
(:func:`set_bank_account`: sealed at rest, shown masked, with the reference the payee asked for). Approving a
payment to such a payee recognises the spending at once, against the plan line and the funder as any payment,
but into the payee's payable rather than straight out of cash, and keeps the funder's cash for it with a
ledger hold::

    approved (or asked for with no approval needed)
        Dr spend:<category>:<s>                / Cr payable:supplier:<payee>   (posted)
        Dr payable:supplier:<payee>            / Cr cash:<s>                   (held: cash kept for the bank)
    a payment batch line for it confirmed paid
        the hold committed: payable down, the funder's cash down, once

So the funder's available money falls when the payment is approved (it cannot be spent twice) and its posted
cash when the bank pays. ``payable:supplier:<payee>`` shows what is owed to that payee now.

PAs are paid through payroll (net pay from a pay run), never here.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, select, update

from ledger.clock import from_us
from ledger.model import AccountSpec, AccountType, HoldRequest
from payroll.sealed import FieldCipher
from wallet.domain.errors import Conflict, InvalidRequest
from wallet.domain.payees import payee_row
from wallet.domain.permissions import Action, require
from wallet.domain.schedules import start_of
from wallet.domain.tables import payee_bank_account_t, payee_t, payment_request_t, supplier_payable_t
from wallet.domain.unit_of_work import Tx, UnitOfWork
from wallet.domain.wallets import FundingStream, Wallet, spending_money, stream_pk
from wallet.money_out import BankAccount, MoneyOutError, bacs_name, bacs_reference, bacs_text


@dataclass(frozen=True)
class PayeeBankAccount:
    """A payee's bank account as it may be shown: masked. The sealed form never leaves this module's rows."""

    payee_id: str
    account_name: str
    account_masked: str
    reference: str
    set_by: str


def payable_account(wallet: Wallet, payee_uuid: str) -> str:
    """The ledger account of what the wallet owes one supplier payee."""
    return f"{wallet.book}:payable:supplier:{payee_uuid}"


def masked(account: BankAccount) -> str:
    return f"**-**-{account.sort_code[-2:]} ****{account.account_number[-4:]}"


def seal(cipher: FieldCipher, account: BankAccount) -> str:
    return cipher.seal(f"{account.sort_code}:{account.account_number}")


def open_sealed(cipher: FieldCipher, token: str) -> BankAccount:
    sort_code, account_number = cipher.open(token).split(":", 1)
    return BankAccount(sort_code, account_number)


# ---------------------------------------------------------------------- bank details
def set_bank_account(uow: UnitOfWork, wallet_id: str, payee_id: str, *, actor: str, cipher: FieldCipher,
                     sort_code: str, account_number: str, account_name: str | None = None,
                     reference: str | None = None) -> PayeeBankAccount:
    """Pay this payee by bank from now on (or change its account). Needs MANAGE_PAYEES.

    ``account_name``: the name on the account (default: the payee's name), folded to Bacs characters;
    ``reference``: what the payee sees on their statement (at most 18 Bacs characters; default: the payee's own
    reference, or its name, folded to fit). Errors name the field that is wrong, never the digits typed.
    """
    try:
        account = BankAccount(sort_code, account_number)
        ref = bacs_reference(reference) if reference is not None else None
    except MoneyOutError as exc:
        raise InvalidRequest(str(exc)) from None

    def work(tx: Tx) -> PayeeBankAccount:
        wallet_row = tx.wallet_row(wallet_id, lock=True)
        require(tx, actor, Action.MANAGE_PAYEES, wallet_row, f"bank details of payee {payee_id}",
                system_allowed=True)
        payee = payee_row(tx, wallet_row, payee_id)
        if payee.kind == "pa":
            raise InvalidRequest(f"{payee.name} is a personal assistant: PAs are paid their net pay through "
                                 "payroll, with the bank details payroll holds")
        name = (account_name or "").strip() or payee.name
        try:
            bacs_name(name)
        except MoneyOutError as exc:
            raise InvalidRequest(f"account name: {exc}") from None
        chosen = ref or bacs_text(payee.reference or payee.name, 18)
        if not chosen:
            raise InvalidRequest("give a reference for the payee's statement (A-Z, 0-9, at most 18 characters)")
        values = dict(account_name=name[:200], account_masked=masked(account), account_sealed=seal(cipher, account),
                      reference=chosen, set_by=actor, set_us=tx.now_us())
        done = tx.conn.execute(update(payee_bank_account_t).where(payee_bank_account_t.c.payee_id == payee.id)
                               .values(**values))
        if done.rowcount == 0:
            tx.conn.execute(payee_bank_account_t.insert(), dict(values, payee_id=payee.id))
        tx.audit(wallet_row.id, actor, "payee_bank_account_set",
                 f"payee {payee_id} is paid by bank to {values['account_masked']}, reference {chosen}")
        return PayeeBankAccount(payee.uuid, name, values["account_masked"], chosen, actor)

    return uow.write(work)


def bank_account(uow: UnitOfWork, wallet_id: str, payee_id: str, *, actor: str) -> PayeeBankAccount | None:
    """The payee's bank account, masked; None when the payee is not paid by bank."""

    def work(tx: Tx) -> PayeeBankAccount | None:
        wallet_row = tx.wallet_row(wallet_id)
        require(tx, actor, Action.VIEW_TRANSACTIONS, wallet_row, f"bank details of payee {payee_id}",
                system_allowed=True)
        payee = payee_row(tx, wallet_row, payee_id)
        row = _bank_row(tx, payee.id)
        if row is None:
            return None
        return PayeeBankAccount(payee.uuid, row.account_name, row.account_masked, row.reference, row.set_by)

    return uow.write(work)


def _bank_row(tx: Tx, payee_pk: int) -> Any:
    return tx.conn.execute(select(payee_bank_account_t).where(payee_bank_account_t.c.payee_id == payee_pk)).first()


def paid_by_bank(tx: Tx, payee: Any) -> bool:
    """Whether payments to this payee (a ``wallet_payee`` row) go through a payment batch."""
    return payee.kind != "pa" and _bank_row(tx, payee.id) is not None


# ---------------------------------------------------------------------- owing
def _ensure_account(tx: Tx, wallet: Wallet, payee: Any) -> str:
    code = payable_account(wallet, payee.uuid)
    tx.ledger.open_account(AccountSpec(code, AccountType.LIABILITY, currency=wallet.currency, book=wallet.book,
                                       owner_ref=wallet.id, metadata={"label": f"Owed to {payee.name}",
                                                                      "payee": payee.uuid}))
    return code


@dataclass(frozen=True)
class Owed:
    """The ledger side of a payment now owed to a supplier: the spending entry and the hold on cash."""

    entry_id: str
    hold_id: str
    payee_pk: int
    stream_pk: int
    amount: int

    def record(self, tx: Tx, wallet_pk: int, request_pk: int) -> None:
        """Store the payable for the request (once its row is written)."""
        tx.conn.execute(supplier_payable_t.insert(), dict(
            uuid=tx.new_id(), wallet_id=wallet_pk, request_id=request_pk, payee_id=self.payee_pk,
            stream_id=self.stream_pk, amount=self.amount, payable_entry_id=self.entry_id, hold_id=self.hold_id,
            settlement_entry_id=None, paid_by=None, created_us=tx.now_us(), paid_us=None))


def owe(tx: Tx, wallet: Wallet, stream: FundingStream, payee: Any, *, request_id: str, spend_account: str,
        amount: int, text: str, actor: str, metadata: dict[str, Any], entry_key: str) -> Owed:
    """Recognise an approved payment as owed to the payee and keep the funder's cash for it."""
    code = _ensure_account(tx, wallet, payee)
    meta = {**metadata, "awaits": "bank_payment"}
    # The hold first: it is what refuses a payment the funder's money cannot cover.
    hold = spending_money(tx, wallet, stream, lambda: tx.ledger.hold(HoldRequest(
        key=f"{wallet.book}:pay:{request_id}:bank", debit=code, credit=wallet.chart.cash(stream.code),
        amount=amount, currency=wallet.currency, description=f"Bank payment due: {text}"[:500],
        reference=request_id, actor=actor, metadata=meta)))
    entry = tx.ledger.transfer(entry_key, spend_account, code, amount, currency=wallet.currency, description=text,
                               reference=request_id, actor=actor, metadata=meta)
    return Owed(entry.id, hold.id, payee.id, stream_pk(tx, stream.id), amount)


def settle(tx: Tx, wallet: Wallet, payable_pk: int, paid_on: date, actor: str) -> str:
    """The bank paid: commit the hold (payable down, the funder's cash down) and mark the payable paid, once.
    Returns the settling entry. Runs inside the caller's transaction (a payment batch confirmation)."""
    row = tx.conn.execute(select(supplier_payable_t).where(supplier_payable_t.c.id == payable_pk)).one()
    if row.paid_us is not None:
        raise Conflict(f"the payment to this supplier was already paid ({row.settlement_entry_id}); it cannot be "
                       "paid twice")
    request_uuid = tx.conn.execute(select(payment_request_t.c.uuid)
                                   .where(payment_request_t.c.id == row.request_id)).scalar_one()
    entry = tx.ledger.commit_hold(row.hold_id, f"{wallet.book}:pay:{request_uuid}:paid",
                                  effective_at=start_of(paid_on), actor=actor)
    done = tx.conn.execute(update(supplier_payable_t).where(and_(
        supplier_payable_t.c.id == row.id, supplier_payable_t.c.paid_us.is_(None))).values(
        settlement_entry_id=entry.id, paid_by=actor, paid_us=tx.now_us()))
    if done.rowcount != 1:
        raise Conflict("the payment to this supplier was confirmed paid at the same time by someone else")
    return entry.id


@dataclass(frozen=True)
class Due:
    """A supplier payable not yet paid nor in a live batch, with what a batch line needs."""

    payable_pk: int
    request_id: str
    payee_id: str
    entry_id: str
    amount: int
    account_name: str
    account_sealed: str
    reference: str

    @property
    def key(self) -> str:
        """The debt, as a batch line's ``payable_key``: one line in a live batch, ever."""
        return f"{self.entry_id}:supplier:{self.payee_id}"


def unpaid(tx: Tx, wallet_pk: int, batched: set[str]) -> list[Due]:
    """The wallet's supplier payables that are unpaid and not in ``batched`` (keys of live batch lines)."""
    q = (select(supplier_payable_t.c.id, supplier_payable_t.c.amount, supplier_payable_t.c.payable_entry_id,
                payment_request_t.c.uuid.label("request_uuid"), payee_t.c.uuid.label("payee_uuid"),
                payee_bank_account_t.c.account_name, payee_bank_account_t.c.account_sealed,
                payee_bank_account_t.c.reference)
         .join(payment_request_t, payment_request_t.c.id == supplier_payable_t.c.request_id)
         .join(payee_t, payee_t.c.id == supplier_payable_t.c.payee_id)
         .join(payee_bank_account_t, payee_bank_account_t.c.payee_id == payee_t.c.id)
         .where(and_(supplier_payable_t.c.wallet_id == wallet_pk, supplier_payable_t.c.paid_us.is_(None)))
         .order_by(supplier_payable_t.c.id))
    out = [Due(r.id, r.request_uuid, r.payee_uuid, r.payable_entry_id, r.amount, r.account_name,
               r.account_sealed, r.reference) for r in tx.conn.execute(q)]
    return [d for d in out if d.key not in batched]


@dataclass(frozen=True)
class BankPayment:
    """Where a payment request stands with the bank (only for payees paid by bank)."""

    payable_id: str
    payable_entry_id: str
    settlement_entry_id: str | None
    paid_at: datetime | None


def bank_payment(tx: Tx, request_pk: int) -> BankPayment | None:
    row = tx.conn.execute(select(supplier_payable_t).where(supplier_payable_t.c.request_id == request_pk)).first()
    if row is None:
        return None
    return BankPayment(row.uuid, row.payable_entry_id, row.settlement_entry_id,
                       from_us(row.paid_us) if row.paid_us is not None else None)


__all__ = ["BankPayment", "Due", "Owed", "PayeeBankAccount", "bank_account", "bank_payment", "owe",
           "paid_by_bank", "payable_account", "set_bank_account", "settle", "unpaid"]
