"""Who may do what to a wallet: one deny-by-default function over one explicit table.

Permissions come from a person's relationship to one wallet (holder, appointee, family overseer, support
manager, auditor) or from a global staff role (payroll admin; council officer, who sees only the wallets their
council funds). Anything not written in :data:`PERMISSIONS` is refused. A family overseer gets only what the
holder shared with them (a subset of :data:`SHAREABLE`), and nothing once revoked.

:func:`can` is pure: it answers from facts already loaded. :func:`require` loads them inside a service's
transaction, records the attempt in the access log, and raises :class:`PermissionDenied` when the answer is no.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Iterable

from sqlalchemy import and_, select

from wallet.domain.errors import PermissionDenied
from wallet.domain.tables import funding_stream_t, relationship_t, user_t
from wallet.domain.unit_of_work import SYSTEM, Tx, UnitOfWork


class Action(str, enum.Enum):
    VIEW_BALANCE = "view_balance"
    VIEW_TRANSACTIONS = "view_transactions"
    REQUEST_PAYMENT = "request_payment"
    APPROVE_PAYMENT = "approve_payment"
    MANAGE_PAYEES = "manage_payees"
    SUBMIT_TIMESHEET = "submit_timesheet"
    APPROVE_TIMESHEET = "approve_timesheet"
    RUN_PAYROLL = "run_payroll"
    EXPORT = "export"
    MANAGE_SHARING = "manage_sharing"
    VIEW_ACCESS_LOG = "view_access_log"
    MANAGE_WALLET = "manage_wallet"
    """Set up the wallet: funding streams and money received, plan lines, settings, people's roles."""
    VIEW_PAYSLIPS = "view_payslips"
    """Payslips of every PA the wallet employs (the employer, and whoever acts for them)."""
    VIEW_OWN_PAYSLIPS = "view_own_payslips"
    """A PA's own payslips from the wallet that employs them, and nothing else of the wallet."""


class Role(str, enum.Enum):
    # relationships to one wallet
    HOLDER = "holder"
    APPOINTEE = "appointee"
    FAMILY_OVERSEER = "family_overseer"
    SUPPORT_MANAGER = "support_manager"
    AUDITOR = "auditor"
    PERSONAL_ASSISTANT = "personal_assistant"
    """An employee paid through the wallet's payroll, linked to their payroll record (``wallet_pa_link``)."""
    # global staff roles
    PAYROLL_ADMIN = "payroll_admin"
    COUNCIL_OFFICER = "council_officer"


WALLET_ROLES = frozenset({Role.HOLDER, Role.APPOINTEE, Role.FAMILY_OVERSEER, Role.SUPPORT_MANAGER, Role.AUDITOR,
                          Role.PERSONAL_ASSISTANT})
STAFF_ROLES = frozenset({Role.PAYROLL_ADMIN, Role.COUNCIL_OFFICER})

A = Action
PERMISSIONS: dict[Role, frozenset[Action]] = {
    # The person, and whoever legally acts for them: everything but running payroll (the bureau's job).
    Role.HOLDER: frozenset({
        A.VIEW_BALANCE, A.VIEW_TRANSACTIONS, A.REQUEST_PAYMENT, A.APPROVE_PAYMENT, A.MANAGE_PAYEES,
        A.SUBMIT_TIMESHEET, A.APPROVE_TIMESHEET, A.EXPORT, A.MANAGE_SHARING, A.VIEW_ACCESS_LOG,
        A.MANAGE_WALLET, A.VIEW_PAYSLIPS}),
    Role.APPOINTEE: frozenset({
        A.VIEW_BALANCE, A.VIEW_TRANSACTIONS, A.REQUEST_PAYMENT, A.APPROVE_PAYMENT, A.MANAGE_PAYEES,
        A.SUBMIT_TIMESHEET, A.APPROVE_TIMESHEET, A.EXPORT, A.MANAGE_SHARING, A.VIEW_ACCESS_LOG,
        A.MANAGE_WALLET, A.VIEW_PAYSLIPS}),
    # Read-only, and only what the holder shared: never able to move money.
    Role.FAMILY_OVERSEER: frozenset({A.VIEW_BALANCE, A.VIEW_TRANSACTIONS}),
    # Staff who help: may ask for payments on the person's behalf, never approve them.
    Role.SUPPORT_MANAGER: frozenset({
        A.VIEW_BALANCE, A.VIEW_TRANSACTIONS, A.REQUEST_PAYMENT, A.MANAGE_PAYEES, A.SUBMIT_TIMESHEET,
        A.EXPORT, A.MANAGE_WALLET}),
    Role.AUDITOR: frozenset({A.EXPORT}),
    # A PA sends in their own timesheets and reads their own payslips: never the wallet's money.
    Role.PERSONAL_ASSISTANT: frozenset({A.SUBMIT_TIMESHEET, A.VIEW_OWN_PAYSLIPS}),
    Role.PAYROLL_ADMIN: frozenset({A.VIEW_BALANCE, A.VIEW_TRANSACTIONS, A.RUN_PAYROLL}),
    Role.COUNCIL_OFFICER: frozenset({A.VIEW_BALANCE, A.VIEW_TRANSACTIONS, A.EXPORT}),
}
del A

SHAREABLE = PERMISSIONS[Role.FAMILY_OVERSEER]
"""What a holder may share with a family overseer."""


@dataclass(frozen=True)
class User:
    id: str
    name: str
    email: str
    staff_role: Role | None = None
    organisation_ref: str | None = None
    """For a council officer: the council (a funding stream's ``funder_ref``) whose wallets they may see."""


@dataclass(frozen=True)
class Relationship:
    id: str
    wallet_id: str
    user_id: str
    role: Role
    shares: frozenset[Action] = frozenset()
    revoked: bool = False


@dataclass(frozen=True)
class WalletAccess:
    """The facts about one wallet that permissions depend on."""

    wallet_id: str
    relationships: tuple[Relationship, ...] = ()
    funder_refs: frozenset[str] = frozenset()


def granted(user: User, wallet: WalletAccess) -> frozenset[Action]:
    """Every action this person may take on this wallet, from every role they hold there."""
    out: set[Action] = set()
    for rel in wallet.relationships:
        if rel.user_id != user.id or rel.revoked or rel.wallet_id != wallet.wallet_id:
            continue
        allowed = PERMISSIONS.get(rel.role, frozenset())
        if rel.role is Role.FAMILY_OVERSEER:
            allowed = allowed & rel.shares
        out |= allowed
    if user.staff_role is Role.PAYROLL_ADMIN:
        out |= PERMISSIONS[Role.PAYROLL_ADMIN]
    if (user.staff_role is Role.COUNCIL_OFFICER and user.organisation_ref
            and user.organisation_ref in wallet.funder_refs):
        out |= PERMISSIONS[Role.COUNCIL_OFFICER]
    return frozenset(out)


def can(user: User | None, action: Action | str, wallet: WalletAccess) -> bool:
    """May this person take this action on this wallet? No, unless the table says yes."""
    if user is None:
        return False
    try:
        wanted = Action(action)
    except ValueError:
        return False
    return wanted in granted(user, wallet)


# ---------------------------------------------------------------------- loading facts, inside a transaction
def user_from_row(row: Any) -> User:
    return User(id=row.uuid, name=row.name, email=row.email,
                staff_role=Role(row.staff_role) if row.staff_role else None,
                organisation_ref=row.organisation_ref)


def load_user(tx: Tx, user_id: str) -> User | None:
    row = tx.conn.execute(select(user_t).where(user_t.c.uuid == user_id)).first()
    return user_from_row(row) if row else None


def load_access(tx: Tx, wallet_row: Any, user_id: str | None = None) -> WalletAccess:
    q = (select(relationship_t.c.uuid, relationship_t.c.role, relationship_t.c.shares,
                relationship_t.c.revoked_us, user_t.c.uuid.label("user_uuid"))
         .join(user_t, user_t.c.id == relationship_t.c.user_id)
         .where(relationship_t.c.wallet_id == wallet_row.id).order_by(relationship_t.c.id))
    if user_id is not None:
        q = q.where(user_t.c.uuid == user_id)
    rels = tuple(
        Relationship(id=r.uuid, wallet_id=wallet_row.uuid, user_id=r.user_uuid, role=Role(r.role),
                     shares=frozenset(Action(s) for s in r.shares), revoked=r.revoked_us is not None)
        for r in tx.conn.execute(q))
    funders = frozenset(tx.conn.execute(select(funding_stream_t.c.funder_ref)
                                        .where(funding_stream_t.c.wallet_id == wallet_row.id)).scalars())
    return WalletAccess(wallet_row.uuid, rels, funders)


def active_roles(tx: Tx, wallet_row: Any, user_id: str) -> set[Role]:
    rows = tx.conn.execute(
        select(relationship_t.c.role).join(user_t, user_t.c.id == relationship_t.c.user_id)
        .where(and_(relationship_t.c.wallet_id == wallet_row.id, user_t.c.uuid == user_id,
                    relationship_t.c.revoked_us.is_(None)))).scalars()
    return {Role(r) for r in rows}


def require(tx: Tx, actor: str, action: Action, wallet_row: Any, detail: str = "",
            system_allowed: bool = False) -> User | None:
    """Refuse unless ``actor`` may take ``action`` on the wallet; record the attempt either way.

    ``SYSTEM`` (the service acting by itself) passes only where the service says so (``system_allowed``):
    never for requesting or approving payments, which are always a person's act.
    """
    if actor == SYSTEM and system_allowed:
        tx.audit(wallet_row.id, actor, action.value, detail)
        return None
    user = load_user(tx, actor) if actor != SYSTEM else None
    if user is None or not can(user, action, load_access(tx, wallet_row, user.id)):
        tx.audit(wallet_row.id, actor, action.value, detail, outcome="denied")
        raise PermissionDenied(actor, action.value, wallet_row.uuid)
    tx.audit(wallet_row.id, actor, action.value, detail)
    return user


def allowed(uow: UnitOfWork, user_id: str, action: Action | str, wallet_id: str) -> bool:
    """:func:`can` for a person and a wallet named by id. It only asks, so nothing is logged."""

    def work(tx: Tx) -> bool:
        user = load_user(tx, user_id)
        return user is not None and can(user, action, load_access(tx, tx.wallet_row(wallet_id), user.id))

    return uow.read(work)


def check_actions(actions: Iterable[Action | str]) -> frozenset[Action]:
    return frozenset(Action(a) for a in actions)
