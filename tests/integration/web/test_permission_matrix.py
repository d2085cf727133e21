"""Every person × every wallet page of the portal (GET and POST): the status each gets, against an explicit
table that is checked against ``wallet.domain.permissions.PERMISSIONS``.

A rule registered under ``/wallets`` without an entry in :data:`ROUTES` fails ``test_the_matrix_covers_every
_wallet_route``, so a new page cannot ship without saying who may use it.

Allowed POSTs are sent so that they change nothing (an empty form, an unknown request, someone who is not shared
with): the answer shows the guard let them in (400 or 404, never 403), while later rows of the matrix still see
the same wallet.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from tests.integration.web.conftest import csrf_token_from
from tests.integration.web.payroll_world import add_payroll
from wallet.domain import payments
from wallet.domain.chart import Category
from wallet.domain.permissions import PERMISSIONS, Action, Role
from wallet.web.extensions import limiter

A = Action
PEOPLE = ("holder", "appointee", "appointee2", "overseer", "manager", "auditor", "payroll_admin",
          "council_officer", "other_council_officer", "stranger", "pa")
SIGNED_OUT = None

# Who each test person is to the standard wallet (tests/integration/wallet/conftest.py): their role, and for the
# family overseer what the holder shared.
ROLE_OF = {"holder": Role.HOLDER, "appointee": Role.APPOINTEE, "appointee2": Role.APPOINTEE,
           "overseer": Role.FAMILY_OVERSEER, "manager": Role.SUPPORT_MANAGER, "auditor": Role.AUDITOR,
           "payroll_admin": Role.PAYROLL_ADMIN, "council_officer": Role.COUNCIL_OFFICER,
           "other_council_officer": None, "stranger": None, "pa": Role.PERSONAL_ASSISTANT}
OVERSEER_SHARES = frozenset({A.VIEW_BALANCE, A.VIEW_TRANSACTIONS})

# What each person may do on the wallet, written out. test_the_table_agrees_with_the_domain checks it.
MAY = {
    "holder": {A.VIEW_BALANCE, A.VIEW_TRANSACTIONS, A.REQUEST_PAYMENT, A.APPROVE_PAYMENT, A.MANAGE_PAYEES,
               A.SUBMIT_TIMESHEET, A.APPROVE_TIMESHEET, A.EXPORT, A.MANAGE_SHARING, A.VIEW_ACCESS_LOG,
               A.MANAGE_WALLET, A.VIEW_PAYSLIPS},
    "appointee": {A.VIEW_BALANCE, A.VIEW_TRANSACTIONS, A.REQUEST_PAYMENT, A.APPROVE_PAYMENT, A.MANAGE_PAYEES,
                  A.SUBMIT_TIMESHEET, A.APPROVE_TIMESHEET, A.EXPORT, A.MANAGE_SHARING, A.VIEW_ACCESS_LOG,
                  A.MANAGE_WALLET, A.VIEW_PAYSLIPS},
    "appointee2": {A.VIEW_BALANCE, A.VIEW_TRANSACTIONS, A.REQUEST_PAYMENT, A.APPROVE_PAYMENT, A.MANAGE_PAYEES,
                   A.SUBMIT_TIMESHEET, A.APPROVE_TIMESHEET, A.EXPORT, A.MANAGE_SHARING, A.VIEW_ACCESS_LOG,
                   A.MANAGE_WALLET, A.VIEW_PAYSLIPS},
    "overseer": {A.VIEW_BALANCE, A.VIEW_TRANSACTIONS},
    "manager": {A.VIEW_BALANCE, A.VIEW_TRANSACTIONS, A.REQUEST_PAYMENT, A.MANAGE_PAYEES, A.SUBMIT_TIMESHEET,
                A.EXPORT, A.MANAGE_WALLET},
    "auditor": {A.EXPORT},
    "payroll_admin": {A.VIEW_BALANCE, A.VIEW_TRANSACTIONS, A.RUN_PAYROLL},
    "council_officer": {A.VIEW_BALANCE, A.VIEW_TRANSACTIONS, A.EXPORT},
    "other_council_officer": set(),
    "stranger": set(),
    # A PA of the wallet (tests/integration/web/payroll_world.py): their own timesheets and payslips only.
    "pa": {A.SUBMIT_TIMESHEET, A.VIEW_OWN_PAYSLIPS},
}


@dataclass(frozen=True)
class Route:
    rule: str
    method: str
    action: Action | tuple[Action, ...] | None
    """The action the page is guarded by (a tuple: any one of them; None: any signed-in person)."""
    allowed: int | None
    """The status for someone allowed (None: another team's page; anything but 401, 403 or a server error)."""
    path: str
    data: tuple[tuple[str, str], ...] = ()


W, REQ, UNKNOWN = "{wallet}", "{request}", "00000000-0000-4000-8000-000000000000"
TS, SLIP = "{timesheet}", "{payslip}"   # the PA's submitted timesheet; her payslip of a finalised run
ROUTES = [
    Route("/wallets/<wallet_id>", "GET", A.VIEW_BALANCE, 200, f"/wallets/{W}"),
    Route("/wallets/<wallet_id>/transactions", "GET", A.VIEW_TRANSACTIONS, 200, f"/wallets/{W}/transactions"),
    Route("/wallets/<wallet_id>/payments", "GET", A.VIEW_TRANSACTIONS, 200, f"/wallets/{W}/payments"),
    Route("/wallets/<wallet_id>/payments/new", "GET", A.REQUEST_PAYMENT, 200, f"/wallets/{W}/payments/new"),
    Route("/wallets/<wallet_id>/payments/new", "POST", A.REQUEST_PAYMENT, 400, f"/wallets/{W}/payments/new"),
    Route("/wallets/<wallet_id>/approvals", "GET", A.APPROVE_PAYMENT, 200, f"/wallets/{W}/approvals"),
    Route("/wallets/<wallet_id>/approvals/<request_id>/approve", "POST", A.APPROVE_PAYMENT, 404,
          f"/wallets/{W}/approvals/{UNKNOWN}/approve"),
    Route("/wallets/<wallet_id>/approvals/<request_id>/reject", "POST", A.APPROVE_PAYMENT, 400,
          f"/wallets/{W}/approvals/{REQ}/reject", (("reason", ""),)),
    Route("/wallets/<wallet_id>/sharing", "GET", A.MANAGE_SHARING, 200, f"/wallets/{W}/sharing"),
    Route("/wallets/<wallet_id>/sharing", "POST", A.MANAGE_SHARING, 400, f"/wallets/{W}/sharing"),
    Route("/wallets/<wallet_id>/sharing/<person_id>/revoke", "POST", A.MANAGE_SHARING, 404,
          f"/wallets/{W}/sharing/{UNKNOWN}/revoke"),
    Route("/wallets/<wallet_id>/access-log", "GET", A.VIEW_ACCESS_LOG, 200, f"/wallets/{W}/access-log"),
    Route("/wallets/<wallet_id>/card", "GET", A.VIEW_TRANSACTIONS, 200, f"/wallets/{W}/card"),
    Route("/wallets/<wallet_id>/card/direct-debit", "POST", A.MANAGE_WALLET, 400, f"/wallets/{W}/card/direct-debit"),
    Route("/wallets/<wallet_id>/payments/<request_id>/withdraw", "POST", A.REQUEST_PAYMENT, 404,
          f"/wallets/{W}/payments/{UNKNOWN}/withdraw"),
    Route("/wallets/<wallet_id>/alerts/<alert_id>/dismiss", "POST", A.VIEW_BALANCE, 404,
          f"/wallets/{W}/alerts/{UNKNOWN}/dismiss"),
    # Timesheets and payslips: PAs see only their own (tests in test_pages_timesheets / test_pages_payslips).
    Route("/wallets/<wallet_id>/timesheets", "GET", (A.SUBMIT_TIMESHEET, A.APPROVE_TIMESHEET), 200,
          f"/wallets/{W}/timesheets"),
    Route("/wallets/<wallet_id>/timesheets/new", "GET", A.SUBMIT_TIMESHEET, 200, f"/wallets/{W}/timesheets/new"),
    Route("/wallets/<wallet_id>/timesheets/new", "POST", A.SUBMIT_TIMESHEET, 400, f"/wallets/{W}/timesheets/new"),
    Route("/wallets/<wallet_id>/timesheets/<timesheet_id>", "GET", (A.SUBMIT_TIMESHEET, A.APPROVE_TIMESHEET), 200,
          f"/wallets/{W}/timesheets/{TS}"),
    Route("/wallets/<wallet_id>/timesheets/<timesheet_id>/change", "GET", A.SUBMIT_TIMESHEET, 404,
          f"/wallets/{W}/timesheets/{UNKNOWN}/change"),
    Route("/wallets/<wallet_id>/timesheets/<timesheet_id>/change", "POST", A.SUBMIT_TIMESHEET, 404,
          f"/wallets/{W}/timesheets/{UNKNOWN}/change"),
    Route("/wallets/<wallet_id>/timesheets/<timesheet_id>/send", "POST", A.SUBMIT_TIMESHEET, 404,
          f"/wallets/{W}/timesheets/{UNKNOWN}/send"),
    Route("/wallets/<wallet_id>/timesheets/<timesheet_id>/approve", "POST", A.APPROVE_TIMESHEET, 404,
          f"/wallets/{W}/timesheets/{UNKNOWN}/approve"),
    Route("/wallets/<wallet_id>/timesheets/<timesheet_id>/reject", "POST", A.APPROVE_TIMESHEET, 400,
          f"/wallets/{W}/timesheets/{TS}/reject", (("reason", ""),)),
    Route("/wallets/<wallet_id>/payslips", "GET", (A.VIEW_PAYSLIPS, A.VIEW_OWN_PAYSLIPS), 200,
          f"/wallets/{W}/payslips"),
    Route("/wallets/<wallet_id>/payslips/<payslip_id>", "GET", (A.VIEW_PAYSLIPS, A.VIEW_OWN_PAYSLIPS), 200,
          f"/wallets/{W}/payslips/{SLIP}"),
    Route("/wallets/<wallet_id>/payslips/<payslip_id>/pdf", "GET", (A.VIEW_PAYSLIPS, A.VIEW_OWN_PAYSLIPS), 200,
          f"/wallets/{W}/payslips/{SLIP}/pdf"),
    # One entry and its evidence; provider invoices (tests in tests/integration/evidence and .../invoices).
    Route("/wallets/<wallet_id>/entries/<entry_id>", "GET", A.VIEW_TRANSACTIONS, 404,
          f"/wallets/{W}/entries/{UNKNOWN}"),
    Route("/wallets/<wallet_id>/entries/<entry_id>/evidence", "POST", A.REQUEST_PAYMENT, 404,
          f"/wallets/{W}/entries/{UNKNOWN}/evidence"),
    Route("/wallets/<wallet_id>/evidence/<evidence_id>", "GET", A.VIEW_TRANSACTIONS, 404,
          f"/wallets/{W}/evidence/{UNKNOWN}"),
    Route("/wallets/<wallet_id>/invoices", "GET", A.VIEW_TRANSACTIONS, 200, f"/wallets/{W}/invoices"),
    Route("/wallets/<wallet_id>/invoices/new", "GET", A.REQUEST_PAYMENT, 200, f"/wallets/{W}/invoices/new"),
    Route("/wallets/<wallet_id>/invoices/new", "POST", A.REQUEST_PAYMENT, 400, f"/wallets/{W}/invoices/new"),
    Route("/wallets/<wallet_id>/invoices/rates", "GET", A.MANAGE_PAYEES, 200, f"/wallets/{W}/invoices/rates"),
    Route("/wallets/<wallet_id>/invoices/rates", "POST", A.MANAGE_PAYEES, 400, f"/wallets/{W}/invoices/rates"),
    Route("/wallets/<wallet_id>/invoices/<invoice_id>", "GET", A.VIEW_TRANSACTIONS, 404,
          f"/wallets/{W}/invoices/{UNKNOWN}"),
    Route("/wallets/<wallet_id>/invoices/<invoice_id>/approve", "POST", A.APPROVE_PAYMENT, 404,
          f"/wallets/{W}/invoices/{UNKNOWN}/approve"),
    Route("/wallets/<wallet_id>/invoices/<invoice_id>/reject", "POST", A.APPROVE_PAYMENT, 404,
          f"/wallets/{W}/invoices/{UNKNOWN}/reject", (("reason", "No"),)),
    Route("/wallets/<wallet_id>/invoices/<invoice_id>/paid", "POST", A.REQUEST_PAYMENT, 404,
          f"/wallets/{W}/invoices/{UNKNOWN}/paid"),
    # Bank statements (manage_wallet) and the monthly report (view_transactions). The POSTs name nothing that
    # exists, or send an empty form, so they change nothing; "match again" with no lines imported changes nothing.
    Route("/wallets/<wallet_id>/bank", "GET", A.MANAGE_WALLET, 200, f"/wallets/{W}/bank"),
    Route("/wallets/<wallet_id>/bank/import", "GET", A.MANAGE_WALLET, 200, f"/wallets/{W}/bank/import"),
    Route("/wallets/<wallet_id>/bank/import", "POST", A.MANAGE_WALLET, 400, f"/wallets/{W}/bank/import"),
    Route("/wallets/<wallet_id>/bank/import/<upload_id>/mapping", "POST", A.MANAGE_WALLET, 404,
          f"/wallets/{W}/bank/import/{UNKNOWN}/mapping"),
    Route("/wallets/<wallet_id>/bank/lines", "GET", A.MANAGE_WALLET, 200, f"/wallets/{W}/bank/lines"),
    Route("/wallets/<wallet_id>/bank/lines/<line_id>", "GET", A.MANAGE_WALLET, 404,
          f"/wallets/{W}/bank/lines/{UNKNOWN}"),
    Route("/wallets/<wallet_id>/bank/lines/<line_id>/match", "POST", A.MANAGE_WALLET, 404,
          f"/wallets/{W}/bank/lines/{UNKNOWN}/match"),
    Route("/wallets/<wallet_id>/bank/lines/<line_id>/explain", "POST", A.MANAGE_WALLET, 404,
          f"/wallets/{W}/bank/lines/{UNKNOWN}/explain", (("note", "Bank charge"),)),
    Route("/wallets/<wallet_id>/bank/lines/<line_id>/reopen", "POST", A.MANAGE_WALLET, 404,
          f"/wallets/{W}/bank/lines/{UNKNOWN}/reopen"),
    Route("/wallets/<wallet_id>/bank/rematch", "POST", A.MANAGE_WALLET, 302, f"/wallets/{W}/bank/rematch"),
    Route("/wallets/<wallet_id>/reports/monthly", "GET", A.VIEW_TRANSACTIONS, 200, f"/wallets/{W}/reports/monthly"),
    Route("/wallets/<wallet_id>/reports/monthly.pdf", "GET", A.VIEW_TRANSACTIONS, 400,
          f"/wallets/{W}/reports/monthly.pdf?month=never"),
    # Pages of other areas under /wallets (exports, the live feed): guarded by their own teams' views.
    Route("/wallets/<wallet_id>/exports", "GET", A.EXPORT, None, f"/wallets/{W}/exports"),
    Route("/wallets/<wallet_id>/exports/download", "GET", A.EXPORT, None, f"/wallets/{W}/exports/download"),
    Route("/wallets/<wallet_id>/live", "GET", A.VIEW_TRANSACTIONS, None, f"/wallets/{W}/live"),
]
# Pages that are not one wallet's: any signed-in person gets them (a list, or a redirect to their one wallet).
START_PAGES = {
    ("/", "GET"): {who: 302 for who in PEOPLE},
    ("/wallets", "GET"): {"holder": 302, "appointee": 302, "appointee2": 302, "overseer": 302, "manager": 302,
                          "auditor": 200, "payroll_admin": 302, "council_officer": 302,
                          "other_council_officer": 200, "stranger": 200, "pa": 302},
}


def test_the_table_agrees_with_the_domain():
    for who, role in ROLE_OF.items():
        derived = set(PERMISSIONS.get(role, frozenset())) if role else set()
        if role is Role.FAMILY_OVERSEER:
            derived &= OVERSEER_SHARES
        assert MAY[who] == derived, who


def test_the_matrix_covers_every_wallet_route(portal):
    registered = {(rule.rule, method) for rule in portal.app.url_map.iter_rules()
                  if rule.rule == "/" or rule.rule == "/wallets" or rule.rule.startswith("/wallets/")
                  for method in rule.methods - {"HEAD", "OPTIONS"}}
    listed = {(r.rule, r.method) for r in ROUTES} | set(START_PAGES)
    assert registered - listed == set(), "add these routes to the permission matrix"
    assert listed - registered == set(), "these routes in the matrix no longer exist"


def expected(route: Route, who: str | None) -> int | str:
    if who is SIGNED_OUT:
        return "refused"
    actions = route.action if isinstance(route.action, tuple) else (route.action,)
    if any(a in MAY[who] for a in actions):
        return route.allowed if route.allowed is not None else "allowed"
    return 403



def test_every_person_on_every_route(portal):
    w = portal.world
    waiting = payments.request_payment(w.uow, w.wallet.id, actor=w.users["manager"], payee_id=w.agency.id,
                                       amount=1_000, category=Category.AGENCY, description="Matrix",
                                       stream_id=w.council.id)
    staff = add_payroll(portal)
    paid = staff.finalised_month_1(by=staff.pa_user, approver=w.users["holder"])
    slip = next(p for p in paid.payslips if p.employee_id == staff.jo.id)
    month_2 = (date(2026, 5, 6), date(2026, 6, 5))
    sheet = staff.submitted(staff.jo, staff.pa_user, period=month_2)
    clients = {}
    for who in (*PEOPLE, SIGNED_OUT):
        limiter.reset()   # more people sign in here than the sign-in limit lets through a minute
        clients[who] = portal.client(who)
    tokens = {who: csrf_token_from(client, "/sign-in" if who is SIGNED_OUT else f"/wallets/{w.wallet.id}")
              for who, client in clients.items()}
    wrong = []
    for who, client in clients.items():
        for route in ROUTES:
            path = (route.path.replace(W, w.wallet.id).replace(REQ, waiting.id).replace(TS, sheet.id)
                    .replace(SLIP, slip.id))
            if route.method == "GET":
                response = client.get(path)
            else:
                response = client.post(path, data={"csrf_token": tokens[who], **dict(route.data)})
            status = response.status_code
            response.close()
            want = expected(route, who)
            if want == "refused":
                ok = status == 401 or (status == 302 and "/sign-in" in response.headers["Location"])
            elif want == "allowed":
                ok = status not in (401, 403) and status < 500
            else:
                ok = status == want
            if not ok:
                wrong.append(f"{who or 'signed out'} {route.method} {route.rule}: {status}, expected {want}")
        for (rule, method), statuses in START_PAGES.items():
            response = client.get(rule)
            if who is SIGNED_OUT:
                ok = response.status_code == 302 and "/sign-in" in response.headers["Location"]
            else:
                ok = response.status_code == statuses[who]
            if not ok:
                wrong.append(f"{who or 'signed out'} {method} {rule}: {response.status_code}")
    assert wrong == []
    # Nothing in the matrix changed the wallet: the request still waits, nobody new was shared with.
    assert payments.get_payment_request(w.uow, waiting.id, actor=w.users["holder"]).status.value == "awaiting_approval"
    assert staff.service.get_timesheet(sheet.id).status.value == "submitted"


@pytest.mark.parametrize("who", ["overseer", "payroll_admin", "council_officer"])
def test_people_who_only_look_are_never_offered_money_forms(portal, who):
    html = portal.client(who).get(f"/wallets/{portal.world.wallet.id}").get_data(as_text=True)
    for link in ("/payments/new", "/approvals", "/sharing", "/access-log"):
        assert link not in html, (who, link)
