"""People and their relationships to wallets.

A user is stored minimally (id, name, e-mail, a global staff role if any; a council officer also names their
council). Authentication and passwords come with the web layer. A relationship gives one person one role on one
wallet; it is never deleted, only revoked, so the history of who could see what stays on record.
"""
from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import and_, select, update

from wallet.domain.errors import Conflict, InvalidRequest, NotFound, UnknownUser
from wallet.domain.permissions import (SHAREABLE, STAFF_ROLES, WALLET_ROLES, Action, Relationship, Role, User,
                                       check_actions, require, user_from_row)
from wallet.domain.tables import relationship_t, user_t
from wallet.domain.unit_of_work import Tx, UnitOfWork


def create_user(uow: UnitOfWork, *, name: str, email: str, staff_role: Role | str | None = None,
                organisation_ref: str | None = None) -> User:
    """Add a person, or return the one already known by this e-mail address (if the rest agrees)."""
    name, email = name.strip(), email.strip().lower()
    if not name or "@" not in email:
        raise InvalidRequest("a user needs a name and an e-mail address")
    role = Role(staff_role) if staff_role else None
    if role is not None and role not in STAFF_ROLES:
        raise InvalidRequest(f"{role.value} is a relationship to a wallet, not a staff role")
    if role is Role.COUNCIL_OFFICER and not organisation_ref:
        raise InvalidRequest("a council officer must name their council (organisation_ref)")

    def work(tx: Tx) -> User:
        row = tx.conn.execute(select(user_t).where(user_t.c.email == email)).first()
        if row is not None:
            found = user_from_row(row)
            if (found.name, found.staff_role, found.organisation_ref) != (name, role, organisation_ref):
                raise Conflict(f"a different user already has the e-mail address {email}")
            return found
        tx.conn.execute(user_t.insert(), dict(uuid=tx.new_id(), name=name, email=email,
                                              staff_role=role.value if role else None,
                                              organisation_ref=organisation_ref, created_us=tx.now_us()))
        return user_from_row(tx.conn.execute(select(user_t).where(user_t.c.email == email)).one())

    return uow.write(work)


def get_user(uow: UnitOfWork, user_id: str) -> User:
    def work(tx: Tx) -> User:
        row = tx.conn.execute(select(user_t).where(user_t.c.uuid == user_id)).first()
        if row is None:
            raise UnknownUser(user_id)
        return user_from_row(row)

    return uow.read(work)


def user_row(tx: Tx, user_id: str) -> Any:
    row = tx.conn.execute(select(user_t).where(user_t.c.uuid == user_id)).first()
    if row is None:
        raise UnknownUser(user_id)
    return row


def add_relationship(tx: Tx, wallet_row: Any, user_id: str, role: Role, granted_by: str,
                     shares: frozenset[Action] = frozenset()) -> Relationship:
    """Inside a transaction: give ``user_id`` the role, or return the active relationship they already have
    (with its shares updated)."""
    user = user_row(tx, user_id)
    existing = tx.conn.execute(select(relationship_t).where(and_(
        relationship_t.c.wallet_id == wallet_row.id, relationship_t.c.user_id == user.id,
        relationship_t.c.role == role.value, relationship_t.c.revoked_us.is_(None)))).first()
    stored = sorted(a.value for a in shares)
    if existing is not None:
        if sorted(existing.shares) != stored:
            tx.conn.execute(update(relationship_t).where(relationship_t.c.id == existing.id).values(shares=stored))
        rid = existing.uuid
    else:
        rid = tx.new_id()
        tx.conn.execute(relationship_t.insert(), dict(
            uuid=rid, wallet_id=wallet_row.id, user_id=user.id, role=role.value, shares=stored,
            granted_by=granted_by, granted_us=tx.now_us(), revoked_by=None, revoked_us=None))
    return Relationship(rid, wallet_row.uuid, user_id, role, shares)


def grant_role(uow: UnitOfWork, wallet_id: str, user_id: str, role: Role | str, *, actor: str,
               shares: Iterable[Action | str] = ()) -> Relationship:
    """Give a person a role on a wallet. A family overseer is shared with by whoever may manage sharing
    (the holder or an appointee), and sees only ``shares``; other roles need ``manage_wallet``."""
    role = Role(role)
    if role not in WALLET_ROLES:
        raise InvalidRequest(f"{role.value} is a global staff role, not a relationship to a wallet")
    if role is Role.HOLDER:
        raise InvalidRequest("a wallet has one holder, named when it is opened")
    wanted = check_actions(shares)
    if role is not Role.FAMILY_OVERSEER and wanted:
        raise InvalidRequest("only a family overseer's view is chosen by sharing")
    if not wanted <= SHAREABLE:
        raise InvalidRequest("a family overseer can only be shown the balance and the transactions")
    action = Action.MANAGE_SHARING if role is Role.FAMILY_OVERSEER else Action.MANAGE_WALLET

    def work(tx: Tx) -> Relationship:
        wallet = tx.wallet_row(wallet_id, lock=True)
        require(tx, actor, action, wallet, f"grant {role.value} to {user_id}", system_allowed=True)
        return add_relationship(tx, wallet, user_id, role, actor, wanted)

    return uow.write(work)


def share_with_overseer(uow: UnitOfWork, wallet_id: str, user_id: str, shares: Iterable[Action | str], *,
                        actor: str) -> Relationship:
    """Change what a family overseer sees (an empty set leaves them seeing nothing, but still listed)."""
    return grant_role(uow, wallet_id, user_id, Role.FAMILY_OVERSEER, actor=actor, shares=shares)


def revoke_role(uow: UnitOfWork, wallet_id: str, user_id: str, role: Role | str, *, actor: str) -> None:
    role = Role(role)
    if role is Role.HOLDER:
        raise InvalidRequest("the holder's relationship to their own wallet cannot be revoked")
    action = Action.MANAGE_SHARING if role is Role.FAMILY_OVERSEER else Action.MANAGE_WALLET

    def work(tx: Tx) -> None:
        wallet = tx.wallet_row(wallet_id, lock=True)
        require(tx, actor, action, wallet, f"revoke {role.value} from {user_id}", system_allowed=True)
        user = user_row(tx, user_id)
        done = tx.conn.execute(update(relationship_t).where(and_(
            relationship_t.c.wallet_id == wallet.id, relationship_t.c.user_id == user.id,
            relationship_t.c.role == role.value, relationship_t.c.revoked_us.is_(None)))
            .values(revoked_by=actor, revoked_us=tx.now_us()))
        if done.rowcount == 0:
            raise NotFound(f"{user_id} is not {role.value.replace('_', ' ')} of this wallet")

    uow.write(work)


def relationships(uow: UnitOfWork, wallet_id: str, *, actor: str) -> list[Relationship]:
    """Who has which role on the wallet (revoked ones included, marked), for those who manage sharing."""

    def work(tx: Tx) -> list[Relationship]:
        wallet = tx.wallet_row(wallet_id)
        require(tx, actor, Action.MANAGE_SHARING, wallet, "list people", system_allowed=True)
        rows = tx.conn.execute(
            select(relationship_t, user_t.c.uuid.label("user_uuid"))
            .join(user_t, user_t.c.id == relationship_t.c.user_id)
            .where(relationship_t.c.wallet_id == wallet.id).order_by(relationship_t.c.id))
        return [Relationship(r.uuid, wallet_id, r.user_uuid, Role(r.role), frozenset(Action(s) for s in r.shares),
                             r.revoked_us is not None) for r in rows]

    return uow.write(work)


__all__ = ["Role", "create_user", "get_user", "grant_role", "share_with_overseer", "revoke_role",
           "relationships", "add_relationship"]
