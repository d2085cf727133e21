"""Who may do what: the whole matrix (every role x every action) against a table written out here, and the
access log."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from wallet.domain import access_log, payments, people, wallets
from wallet.domain.errors import PermissionDenied
from wallet.domain.permissions import Action, Role, User, WalletAccess, allowed, can
from wallet.domain.unit_of_work import SYSTEM

# Columns: view balance, view transactions, request payment, approve payment, manage payees, submit timesheet,
# approve timesheet, run payroll, export, manage sharing, view access log, manage wallet, view payslips (of every
# PA), view own payslips (a PA's).
COLUMNS = [Action.VIEW_BALANCE, Action.VIEW_TRANSACTIONS, Action.REQUEST_PAYMENT, Action.APPROVE_PAYMENT,
           Action.MANAGE_PAYEES, Action.SUBMIT_TIMESHEET, Action.APPROVE_TIMESHEET, Action.RUN_PAYROLL,
           Action.EXPORT, Action.MANAGE_SHARING, Action.VIEW_ACCESS_LOG, Action.MANAGE_WALLET, Action.VIEW_PAYSLIPS,
           Action.VIEW_OWN_PAYSLIPS]
EXPECTED = """
                         VB VT RP AP MP ST AT RU EX MS AL MW VP VO
holder                   x  x  x  x  x  x  x  .  x  x  x  x  x  .
appointee                x  x  x  x  x  x  x  .  x  x  x  x  x  .
appointee2               x  x  x  x  x  x  x  .  x  x  x  x  x  .
overseer                 x  x  .  .  .  .  .  .  .  .  .  .  .  .
overseer_balance_only    x  .  .  .  .  .  .  .  .  .  .  .  .  .
overseer_revoked         .  .  .  .  .  .  .  .  .  .  .  .  .  .
manager                  x  x  x  .  x  x  .  .  x  .  .  x  .  .
auditor                  .  .  .  .  .  .  .  .  x  .  .  .  .  .
payroll_admin            x  x  .  .  .  .  .  x  .  .  .  .  .  .
council_officer          x  x  .  .  .  .  .  .  x  .  .  .  .  .
other_council_officer    .  .  .  .  .  .  .  .  .  .  .  .  .  .
stranger                 .  .  .  .  .  .  .  .  .  .  .  .  .  .
personal_assistant       .  .  .  .  .  x  .  .  .  .  .  .  .  x
"""


def expected_table() -> dict[str, set[Action]]:
    rows = [line.split() for line in EXPECTED.strip().splitlines()[1:]]
    return {row[0]: {a for a, mark in zip(COLUMNS, row[1:], strict=True) if mark == "x"} for row in rows}


@pytest.fixture
def everyone(world):
    """The fixture's people, plus an overseer shown only the balance and one whose access was revoked."""
    uow, w, holder = world.uow, world.wallet, world.users["holder"]
    users = dict(world.users)
    for key in ("overseer_balance_only", "overseer_revoked"):
        users[key] = people.create_user(uow, name=key, email=f"{key}@example.org").id
    people.grant_role(uow, w.id, users["overseer_balance_only"], Role.FAMILY_OVERSEER, actor=holder,
                      shares=[Action.VIEW_BALANCE])
    people.grant_role(uow, w.id, users["overseer_revoked"], Role.FAMILY_OVERSEER, actor=holder,
                      shares=[Action.VIEW_BALANCE, Action.VIEW_TRANSACTIONS])
    people.revoke_role(uow, w.id, users["overseer_revoked"], Role.FAMILY_OVERSEER, actor=holder)
    users["personal_assistant"] = people.create_user(uow, name="Jo Smith", email="jo@example.org").id
    people.grant_role(uow, w.id, users["personal_assistant"], Role.PERSONAL_ASSISTANT, actor=SYSTEM)
    return users


def test_the_whole_permission_matrix(world, everyone):
    table = expected_table()
    assert set(COLUMNS) == set(Action), "every action has a column"
    assert set(table) == set(everyone), "every person has a row"
    got = {who: {a for a in Action if allowed(world.uow, user_id, a, world.wallet.id)}
           for who, user_id in everyone.items()}
    assert got == table


def test_the_eleven_actions_of_the_brief_are_all_there():
    names = {"view_balance", "view_transactions", "request_payment", "approve_payment", "manage_payees",
             "submit_timesheet", "approve_timesheet", "run_payroll", "export", "manage_sharing", "view_access_log"}
    assert names <= {a.value for a in Action}


def test_deny_by_default():
    wallet = WalletAccess("w1", funder_refs=frozenset({"council:leeds"}))
    nobody = User("u1", "Nobody", "n@example.org")
    assert not any(can(nobody, a, wallet) for a in Action)
    assert not can(None, Action.VIEW_BALANCE, wallet)
    assert not can(nobody, "fly_to_the_moon", wallet)
    officer = User("u2", "Officer", "o@example.org", Role.COUNCIL_OFFICER, organisation_ref=None)
    assert not can(officer, Action.VIEW_BALANCE, wallet)


def test_a_council_officer_sees_only_wallets_their_council_funds(world):
    officer = world.users["council_officer"]
    assert wallets.wallet_balance(world.uow, world.wallet.id, actor=officer).posted == 198_000
    other = wallets.open_wallet(world.uow, holder=world.users["stranger"], name="York person",
                                budget_kind="direct_payment", plan_start=world.clock.now().date())
    wallets.set_funding_stream(world.uow, other.id, kind="council_adult_services", funder_ref="council:york",
                               label="York", schedule="monthly", amount=1, starts=world.clock.now().date(),
                               actor=SYSTEM)
    with pytest.raises(PermissionDenied):
        wallets.wallet_balance(world.uow, other.id, actor=officer)
    assert wallets.wallet_balance(world.uow, other.id, actor=world.users["other_council_officer"]).posted == 0


def test_sharing_is_managed_by_the_holder_or_an_appointee_only(world):
    overseer = world.users["overseer"]
    for who in ("overseer", "manager", "council_officer"):
        with pytest.raises(PermissionDenied):
            people.revoke_role(world.uow, world.wallet.id, overseer, Role.FAMILY_OVERSEER, actor=world.users[who])
    with pytest.raises(PermissionDenied):
        people.grant_role(world.uow, world.wallet.id, world.users["stranger"], Role.APPOINTEE, actor=overseer)
    people.revoke_role(world.uow, world.wallet.id, overseer, Role.FAMILY_OVERSEER, actor=world.users["appointee"])
    with pytest.raises(PermissionDenied):
        wallets.wallet_balance(world.uow, world.wallet.id, actor=overseer)
    listed = people.relationships(world.uow, world.wallet.id, actor=world.users["holder"])
    assert [(r.role, r.revoked) for r in listed if r.user_id == overseer] == [(Role.FAMILY_OVERSEER, True)]


def test_the_access_log_records_every_view_and_action_and_every_refusal(world):
    uow, w, users = world.uow, world.wallet, world.users
    world.clock.set(datetime(2026, 4, 7, 8, 30, tzinfo=timezone.utc))
    wallets.wallet_balance(uow, w.id, actor=users["overseer"])
    wallets.transactions(uow, w.id, actor=users["council_officer"], start=world.clock.now().date(),
                         end=world.clock.now().date())
    req = payments.request_payment(uow, w.id, actor=users["manager"], payee_id=world.shop.id, amount=1_000,
                                   category="activities", description="Gym")
    with pytest.raises(PermissionDenied):
        payments.approve_payment(uow, req.id, actor=users["overseer"])
    with pytest.raises(PermissionDenied):
        payments.approve_payment(uow, req.id, actor=users["manager"])   # their own
    payments.approve_payment(uow, req.id, actor=users["appointee"])

    log = access_log.access_log(uow, w.id, actor=users["holder"],
                                since=datetime(2026, 4, 7, tzinfo=timezone.utc))
    assert [(r.actor, r.action, r.outcome) for r in log] == [
        (users["appointee"], "approve_payment", "done"),
        (users["manager"], "approve_payment", "denied"),
        (users["overseer"], "approve_payment", "denied"),
        (users["manager"], "request_payment", "done"),
        (users["council_officer"], "view_transactions", "done"),
        (users["overseer"], "view_balance", "done"),
    ]
    assert all(r.at == datetime(2026, 4, 7, 8, 30, tzinfo=timezone.utc) for r in log)
    assert "own payment request" in log[1].detail and req.id in log[0].detail
    # Reading the log is itself in the log; appointees may read it too.
    again = access_log.access_log(uow, w.id, actor=users["appointee"], limit=1)
    assert [(r.actor, r.action) for r in again] == [(users["holder"], "view_access_log")]


@pytest.mark.parametrize("who", ["overseer", "manager", "auditor", "payroll_admin", "council_officer", "stranger"])
def test_only_the_holder_and_appointees_read_the_access_log(world, who):
    with pytest.raises(PermissionDenied):
        access_log.access_log(world.uow, world.wallet.id, actor=world.users[who])
    log = access_log.access_log(world.uow, world.wallet.id, actor=world.users["holder"], limit=1)
    assert [(r.actor, r.action, r.outcome) for r in log] == [(world.users[who], "view_access_log", "denied")]


def test_the_access_log_cannot_be_changed(world, db):
    for statement in ("UPDATE wallet_access_log SET actor = 'someone else'", "DELETE FROM wallet_access_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            with db.engine.begin() as conn:
                conn.execute(text(statement))
    assert access_log.access_log(world.uow, world.wallet.id, actor=world.users["holder"])[-1].action == "open_wallet"
