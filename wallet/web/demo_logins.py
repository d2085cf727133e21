"""Sign-ins for the demo people, so a newcomer can look at the portal as each role.

Everyone gets the same demo password. Roles that can act on money or see many wallets (appointee, staff,
auditor) must use two-step sign-in, as in production: their authenticator secret is set up here, and
``wallet demo-code EMAIL`` prints the current code for a demo account.
"""
from __future__ import annotations

from dataclasses import dataclass

import pyotp

from payroll.service import PayrollService
from wallet.domain.demo import DemoSummary, load_demo_wallets
from wallet.domain.people import get_user
from wallet.domain.unit_of_work import UnitOfWork
from wallet.web.auth.credentials import Credentials

DEMO_PASSWORD = "demo wallet password"
TWO_FACTOR_ROLES = {"appointee", "support_manager", "payroll_admin", "council_officer", "auditor"}


@dataclass(frozen=True)
class DemoLogin:
    role: str
    name: str
    email: str
    two_factor: bool


def load_demo_with_logins(uow: UnitOfWork, credentials: Credentials) -> tuple[DemoSummary, list[DemoLogin]]:
    summary = load_demo_wallets(uow, PayrollService(uow.db.engine, credentials.cipher))
    logins = []
    for key, user_id in summary.users.items():
        role = "holder" if key in summary.wallets else key   # holders are listed by first name
        user = get_user(uow, user_id)
        two_factor = role in TWO_FACTOR_ROLES
        if not credentials.exists(user.email):
            credentials.create(user.id, user.email, DEMO_PASSWORD, two_factor_required=two_factor)
            if two_factor:
                credentials.provision_code(user.id, pyotp.random_base32())
        logins.append(DemoLogin(role, user.name, user.email, two_factor))
    return summary, logins
