"""Personal assistants in the portal: who a PA is on the payroll, and what of the wallet's payroll each person may
see or do (timesheets and payslips), checked and written to the access log.

A PA signs in as a person with the ``personal_assistant`` relationship to the wallet that employs them, linked
(``wallet_pa_link``) to their own payroll employee record. Through that role they may send in their own
timesheets and read their own payslips, and nothing else: not the balance, not the transactions. The holder and
an appointee see every PA's timesheets and payslips and decide on timesheets; a support manager may send
timesheets in on a PA's behalf.

The payroll keeps its own transactions (``payroll.service.PayrollService``), so an action here is: the
permission check (read), then the payroll's own write with all its rules (a timesheet is checked against the
contract; whoever sent it in cannot approve it), then one access-log row saying how it went (done, denied, or
refused with the payroll's reason). An attempt is never lost, even when the payroll refuses it.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Iterable, TypeVar

from sqlalchemy import and_, select

from payroll.model import Employee, Employer, PayRunStatus, Payslip, Shift, Timesheet
from payroll.service import NotFound as PayrollNotFound
from payroll.service import PayrollError, PayrollService, WrongStatus
from wallet.domain.errors import Conflict, InvalidRequest, NotFound, PermissionDenied, WalletError
from wallet.domain.people import add_relationship, user_row
from wallet.domain.permissions import Action, Relationship, Role, granted, load_access, load_user, require
from wallet.domain.tables import pa_link_t, user_t
from wallet.domain.unit_of_work import SYSTEM, Tx, UnitOfWork
from wallet.domain.wallets import Wallet, load_wallet

T = TypeVar("T")

TIMESHEET_ACTIONS = (Action.SUBMIT_TIMESHEET, Action.APPROVE_TIMESHEET)
VIEW_TIMESHEETS = "view_timesheets"
"""The access log's word for looking at timesheets (a page, not a decision): the permission is one of
:data:`TIMESHEET_ACTIONS`."""
PAYSLIP_ACTIONS = (Action.VIEW_PAYSLIPS, Action.VIEW_OWN_PAYSLIPS)


class UnknownTimesheet(NotFound):
    pass


class UnknownPayslip(NotFound):
    pass


# ---------------------------------------------------------------------- linking a person to their payroll record
def link_personal_assistant(uow: UnitOfWork, payroll: PayrollService, wallet_id: str, user_id: str,
                            employee_id: str, *, actor: str) -> Relationship:
    """Make ``user_id`` the PA ``employee_id`` of the wallet's payroll: the ``personal_assistant`` role and the
    link to the payroll record, together. Needs ``manage_wallet``. Linking again changes nothing; a payroll
    record already linked to someone else is refused."""
    try:
        employee = payroll.get_employee(employee_id)
    except PayrollNotFound:
        raise InvalidRequest(f"there is no PA {employee_id} on the payroll") from None

    def work(tx: Tx) -> Relationship:
        row = tx.wallet_row(wallet_id, lock=True)
        require(tx, actor, Action.MANAGE_WALLET, row, f"link personal assistant {employee_id} to {user_id}",
                system_allowed=True)
        if row.payroll_employer_id != employee.employer_id:
            raise InvalidRequest(f"{employee.full_name} is not employed through this wallet's payroll")
        person = user_row(tx, user_id)
        linked = tx.conn.execute(select(pa_link_t.c.user_id).where(and_(
            pa_link_t.c.wallet_id == row.id, pa_link_t.c.employee_id == employee_id))).scalar()
        if linked is not None and linked != person.id:
            raise Conflict(f"{employee.full_name}'s payroll record is already linked to someone else")
        if linked is None:
            tx.conn.execute(pa_link_t.insert(), dict(wallet_id=row.id, user_id=person.id, employee_id=employee_id,
                                                     linked_by=actor, linked_us=tx.now_us()))
        return add_relationship(tx, row, user_id, Role.PERSONAL_ASSISTANT, actor)

    return uow.write(work)


# ---------------------------------------------------------------------- what one person may see of the payroll
@dataclass(frozen=True)
class PayrollScope:
    """One person's view of one wallet's payroll."""

    wallet: Wallet
    actor: str
    actions: frozenset[Action]
    """Everything the person may do on the wallet (for the navigation)."""
    over_everyone: frozenset[Action]
    """What they may do for every PA of the wallet: from roles other than being a PA themselves."""
    own: frozenset[str]
    """The payroll employee ids that are this person (a PA's own records); empty for everyone else."""
    wallet_pk: int

    @property
    def employer_id(self) -> str | None:
        return self.wallet.payroll_employer_id

    @property
    def sees_every_timesheet(self) -> bool:
        return bool(self.over_everyone & set(TIMESHEET_ACTIONS))

    @property
    def sees_every_payslip(self) -> bool:
        return Action.VIEW_PAYSLIPS in self.over_everyone

    def sees_timesheets_of(self, employee_id: str) -> bool:
        return self.sees_every_timesheet or (Action.SUBMIT_TIMESHEET in self.actions and employee_id in self.own)

    def may_submit_for(self, employee_id: str) -> bool:
        return (Action.SUBMIT_TIMESHEET in self.over_everyone
                or (Action.SUBMIT_TIMESHEET in self.actions and employee_id in self.own))

    def may_decide_for(self, employee_id: str) -> bool:
        """Approve or reject: never for one's own hours, whoever sent them in."""
        return Action.APPROVE_TIMESHEET in self.over_everyone and employee_id not in self.own

    def sees_payslips_of(self, employee_id: str) -> bool:
        return self.sees_every_payslip or (Action.VIEW_OWN_PAYSLIPS in self.actions and employee_id in self.own)


def _scope(tx: Tx, wallet_id: str, actor: str) -> PayrollScope:
    row = tx.wallet_row(wallet_id)
    user = load_user(tx, actor) if actor != SYSTEM else None
    if user is None:
        return PayrollScope(load_wallet(tx, row), actor, frozenset(), frozenset(), frozenset(), row.id)
    access = load_access(tx, row, user.id)
    actions = granted(user, access)
    others = replace(access, relationships=tuple(r for r in access.relationships
                                                 if r.role is not Role.PERSONAL_ASSISTANT))
    is_pa = any(r.role is Role.PERSONAL_ASSISTANT and not r.revoked and r.user_id == user.id
                for r in access.relationships)
    own: frozenset[str] = frozenset()
    if is_pa:
        own = frozenset(tx.conn.execute(
            select(pa_link_t.c.employee_id).join(user_t, user_t.c.id == pa_link_t.c.user_id)
            .where(and_(pa_link_t.c.wallet_id == row.id, user_t.c.uuid == user.id))).scalars())
    return PayrollScope(load_wallet(tx, row), actor, actions, granted(user, others), own, row.id)


def _log(uow: UnitOfWork, scope_or_pk: PayrollScope | int | None, actor: str, action: str, detail: str,
         outcome: str) -> None:
    pk = scope_or_pk.wallet_pk if isinstance(scope_or_pk, PayrollScope) else scope_or_pk
    uow.write(lambda tx: tx.audit(pk, actor, action, detail, outcome))


def attempt(uow: UnitOfWork, wallet_id: str, *, actor: str, any_of: Iterable[Action], detail: str,
            work: Callable[[PayrollScope], T], log_as: str | None = None) -> T:
    """Check that ``actor`` holds one of ``any_of`` on the wallet, run ``work`` with their scope, and write one
    access-log row (as ``log_as``, or the action held): done, denied (by the check or by ``work``) or refused
    (a payroll or wallet refusal, with its reason)."""
    wanted = tuple(Action(a) for a in any_of)
    scope = uow.read(lambda tx: _scope(tx, wallet_id, actor))
    held = next((a for a in wanted if a in scope.actions), None)
    if held is None:
        _log(uow, scope, actor, log_as or wanted[0].value, detail, "denied")
        raise PermissionDenied(actor, wanted[0].value, wallet_id)
    logged = log_as or held.value
    try:
        result = work(scope)
    except PermissionDenied as exc:
        _log(uow, scope, actor, logged, f"{detail} ({exc})", "denied")
        raise
    except (PayrollError, WalletError) as exc:
        _log(uow, scope, actor, logged, f"{detail} ({type(exc).__name__}: {exc})", "refused")
        raise
    _log(uow, scope, actor, logged, detail, "done")
    return result


# ---------------------------------------------------------------------- the wallet's PAs and their timesheets
def employees(payroll: PayrollService, scope: PayrollScope) -> list[Employee]:
    """The wallet's PAs this person may see (every one, or only themselves), leavers included."""
    if not scope.employer_id:
        return []
    try:
        found = payroll.list_employees(scope.employer_id)
    except PayrollNotFound:
        return []
    return [e for e in found if scope.sees_timesheets_of(e.id) or scope.sees_payslips_of(e.id)]


def _employee_of_wallet(payroll: PayrollService, scope: PayrollScope, employee_id: str) -> Employee:
    try:
        employee = payroll.get_employee(employee_id)
    except PayrollNotFound:
        raise NotFound(f"there is no PA {employee_id} on this wallet's payroll") from None
    if not scope.employer_id or employee.employer_id != scope.employer_id:
        raise NotFound(f"there is no PA {employee_id} on this wallet's payroll")
    return employee


def timesheets(payroll: PayrollService, scope: PayrollScope) -> list[Timesheet]:
    """The wallet's timesheets this person may see, newest period first."""
    if not scope.employer_id:
        return []
    try:
        if scope.sees_every_timesheet:
            found = payroll.list_timesheets(employer_id=scope.employer_id)
        else:
            found = [t for e in sorted(scope.own) for t in payroll.list_timesheets(employee_id=e)]
    except PayrollNotFound:
        return []
    seen = [t for t in found if scope.sees_timesheets_of(t.employee_id)]
    return sorted(seen, key=lambda t: (t.period_start, t.id), reverse=True)


def timesheet_in_wallet(payroll: PayrollService, scope: PayrollScope, timesheet_id: str) -> Timesheet:
    """One timesheet of the wallet's payroll, if this person may see it."""
    try:
        sheet = payroll.get_timesheet(timesheet_id)
    except PayrollNotFound:
        raise UnknownTimesheet(f"there is no timesheet {timesheet_id}") from None
    try:
        _employee_of_wallet(payroll, scope, sheet.employee_id)
    except NotFound:
        raise UnknownTimesheet(f"there is no timesheet {timesheet_id}") from None
    if not scope.sees_timesheets_of(sheet.employee_id):
        raise PermissionDenied(scope.actor, Action.SUBMIT_TIMESHEET.value, scope.wallet.id,
                               "this timesheet is someone else's")
    return sheet


def view_timesheets(uow: UnitOfWork, payroll: PayrollService, wallet_id: str, *, actor: str,
                    detail: str = "timesheets") -> tuple[PayrollScope, list[Timesheet], list[Employee]]:
    return attempt(uow, wallet_id, actor=actor, any_of=TIMESHEET_ACTIONS, detail=detail, log_as=VIEW_TIMESHEETS,
                   work=lambda s: (s, timesheets(payroll, s), employees(payroll, s)))


def view_timesheet(uow: UnitOfWork, payroll: PayrollService, wallet_id: str, timesheet_id: str, *, actor: str,
                   detail: str = "", any_of: Iterable[Action] = TIMESHEET_ACTIONS,
                   ) -> tuple[PayrollScope, Timesheet, Employee]:
    """One timesheet and its PA, for someone holding one of ``any_of`` who may see that PA's timesheets."""
    def work(scope: PayrollScope) -> tuple[PayrollScope, Timesheet, Employee]:
        sheet = timesheet_in_wallet(payroll, scope, timesheet_id)
        return scope, sheet, _employee_of_wallet(payroll, scope, sheet.employee_id)

    return attempt(uow, wallet_id, actor=actor, any_of=any_of, detail=detail or f"timesheet {timesheet_id}",
                   work=work, log_as=VIEW_TIMESHEETS)


def send_timesheet(uow: UnitOfWork, payroll: PayrollService, wallet_id: str, *, actor: str, employee_id: str,
                   period_start: Any, period_end: Any, shifts: Iterable[Shift], expenses: int,
                   submit: bool) -> Timesheet:
    """A new timesheet for a PA of the wallet: saved (checked against the contract), and sent for approval if
    ``submit``. A PA sends only their own; a holder, appointee or support manager any PA's."""
    shifts = tuple(shifts)

    def work(scope: PayrollScope) -> Timesheet:
        _employee_of_wallet(payroll, scope, employee_id)
        if not scope.may_submit_for(employee_id):
            raise PermissionDenied(actor, Action.SUBMIT_TIMESHEET.value, wallet_id,
                                   "you can only send in your own timesheets")
        sheet = payroll.save_timesheet(employee_id, period_start=period_start, period_end=period_end,
                                       shifts=shifts, expenses=expenses, actor=actor)
        return payroll.submit_timesheet(sheet.id, actor=actor) if submit else sheet

    what = "send in" if submit else "save"
    return attempt(uow, wallet_id, actor=actor, any_of=(Action.SUBMIT_TIMESHEET,),
                   detail=f"{what} a timesheet for {employee_id}", work=work)


def change_timesheet(uow: UnitOfWork, payroll: PayrollService, wallet_id: str, timesheet_id: str, *, actor: str,
                     shifts: Iterable[Shift], expenses: int, submit: bool) -> Timesheet:
    """New hours for a draft or rejected timesheet, sent for approval again if ``submit``."""
    shifts = tuple(shifts)

    def work(scope: PayrollScope) -> Timesheet:
        sheet = timesheet_in_wallet(payroll, scope, timesheet_id)
        if not scope.may_submit_for(sheet.employee_id):
            raise PermissionDenied(actor, Action.SUBMIT_TIMESHEET.value, wallet_id,
                                   "you can only change your own timesheets")
        edited = payroll.edit_timesheet(timesheet_id, shifts=shifts, expenses=expenses, actor=actor)
        return payroll.submit_timesheet(edited.id, actor=actor) if submit else edited

    return attempt(uow, wallet_id, actor=actor, any_of=(Action.SUBMIT_TIMESHEET,),
                   detail=f"change timesheet {timesheet_id}", work=work)


def submit_timesheet(uow: UnitOfWork, payroll: PayrollService, wallet_id: str, timesheet_id: str, *,
                     actor: str) -> Timesheet:
    """Send a saved (draft) timesheet for approval."""
    def work(scope: PayrollScope) -> Timesheet:
        sheet = timesheet_in_wallet(payroll, scope, timesheet_id)
        if not scope.may_submit_for(sheet.employee_id):
            raise PermissionDenied(actor, Action.SUBMIT_TIMESHEET.value, wallet_id,
                                   "you can only send in your own timesheets")
        return payroll.submit_timesheet(timesheet_id, actor=actor)

    return attempt(uow, wallet_id, actor=actor, any_of=(Action.SUBMIT_TIMESHEET,),
                   detail=f"send in timesheet {timesheet_id}", work=work)


def decide_timesheet(uow: UnitOfWork, payroll: PayrollService, wallet_id: str, timesheet_id: str, *, actor: str,
                     approve: bool, reason: str | None = None) -> Timesheet:
    """Approve, or reject with a reason the PA will read. Never one's own hours; never by whoever sent the
    timesheet in (the payroll refuses that itself)."""
    def work(scope: PayrollScope) -> Timesheet:
        sheet = timesheet_in_wallet(payroll, scope, timesheet_id)
        if not scope.may_decide_for(sheet.employee_id):
            raise PermissionDenied(actor, Action.APPROVE_TIMESHEET.value, wallet_id,
                                   "you cannot approve or reject your own timesheet")
        if approve:
            return payroll.approve_timesheet(timesheet_id, actor=actor)
        return payroll.reject_timesheet(timesheet_id, actor=actor, reason=reason or "")

    verb = "approve" if approve else "reject"
    return attempt(uow, wallet_id, actor=actor, any_of=(Action.APPROVE_TIMESHEET,),
                   detail=f"{verb} timesheet {timesheet_id}", work=work)


# ---------------------------------------------------------------------- payslips
@dataclass(frozen=True)
class PayslipListing:
    payslip: Payslip
    employee_name: str


def payslips(payroll: PayrollService, scope: PayrollScope) -> list[PayslipListing]:
    """Payslips of finalised pay runs this person may see, newest payday first (a run still being worked on
    has payslips that may change: they are not shown)."""
    if not scope.employer_id:
        return []
    try:
        final = {r.id for r in payroll.list_runs(scope.employer_id, status=PayRunStatus.FINALISED)}
        staff = payroll.list_employees(scope.employer_id)
    except PayrollNotFound:
        return []
    out = []
    for employee in staff:
        if not scope.sees_payslips_of(employee.id):
            continue
        out += [PayslipListing(p, employee.full_name) for p in payroll.employee_payslips(employee.id)
                if p.pay_run_id in final]
    return sorted(out, key=lambda x: (x.payslip.payment_date, x.payslip.is_adjustment, x.employee_name),
                  reverse=True)


def view_payslips(uow: UnitOfWork, payroll: PayrollService, wallet_id: str, *, actor: str,
                  detail: str = "payslips") -> tuple[PayrollScope, list[PayslipListing]]:
    return attempt(uow, wallet_id, actor=actor, any_of=PAYSLIP_ACTIONS, detail=detail,
                   work=lambda s: (s, payslips(payroll, s)))


@dataclass(frozen=True)
class PayslipDocument:
    payslip: Payslip
    employee: Employee
    """As on the payday (National Insurance number and bank details opened: mask them when shown)."""
    employer: Employer


def view_payslip(uow: UnitOfWork, payroll: PayrollService, wallet_id: str, payslip_id: str, *, actor: str,
                 detail: str = "") -> tuple[PayrollScope, PayslipDocument]:
    """One payslip of a finalised run of the wallet's payroll, if this person may see it."""
    def work(scope: PayrollScope) -> tuple[PayrollScope, PayslipDocument]:
        try:
            payslip = payroll.get_payslip(payslip_id)
            run = payroll.finalised_run(payslip.pay_run_id)
        except (PayrollNotFound, WrongStatus):
            raise UnknownPayslip(f"there is no payslip {payslip_id}") from None
        if not scope.employer_id or run.employer.id != scope.employer_id:
            raise UnknownPayslip(f"there is no payslip {payslip_id}")
        if not scope.sees_payslips_of(payslip.employee_id):
            raise PermissionDenied(actor, Action.VIEW_OWN_PAYSLIPS.value, wallet_id, "this payslip is someone else's")
        return scope, PayslipDocument(payslip, run.employees[payslip.employee_id], run.employer)

    return attempt(uow, wallet_id, actor=actor, any_of=PAYSLIP_ACTIONS, detail=detail or f"payslip {payslip_id}",
                   work=work)


__all__ = ["PayrollScope", "PayslipDocument", "PayslipListing", "UnknownPayslip", "UnknownTimesheet", "attempt",
           "change_timesheet", "decide_timesheet", "employees", "link_personal_assistant", "payslips",
           "send_timesheet", "submit_timesheet", "timesheets", "view_payslip", "view_payslips", "view_timesheet",
           "view_timesheets"]
