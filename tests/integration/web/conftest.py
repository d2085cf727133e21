"""A portal on the standard test wallet (tests/integration/wallet/conftest.py), SQLite and PostgreSQL.

``portal.client(role)`` is a test client signed in as that person, with two-step sign-in done where the role
needs it. The app's domain clock is the world's clock, so what the pages show is deterministic.
"""
from __future__ import annotations

from dataclasses import dataclass

import pyotp
import pytest
from cryptography.fernet import Fernet

from tests.integration.wallet.conftest import World, uow, world  # noqa: F401  (fixtures)
from tests.integration.web.people import PASSWORD, csrf_token, sign_in
from wallet.domain.people import get_user
from wallet.web import create_app
from wallet.web.auth import credentials
from wallet.web.demo_logins import TWO_FACTOR_ROLES
from wallet.web.extensions import limiter

NEEDS_CODE = {"appointee", "appointee2", "manager", "auditor", "payroll_admin", "council_officer",
              "other_council_officer"}
assert {"appointee", "support_manager", "payroll_admin", "council_officer", "auditor"} == TWO_FACTOR_ROLES


@dataclass
class Portal:
    app: object
    world: World
    secrets: dict[str, str]

    def client(self, who: str | None = None):
        """A test client, signed in as ``who`` (a key of ``world.users``) unless None."""
        client = self.app.test_client()
        if who is None:
            return client
        email = f"{who}@example.org"
        response = sign_in(client, email, PASSWORD)
        assert response.status_code == 302, response.get_data(as_text=True)
        if who in self.secrets:
            token = csrf_token(client, "/sign-in/code")
            response = client.post("/sign-in/code", data={"code": pyotp.TOTP(self.secrets[who]).now(),
                                                          "csrf_token": token})
            assert response.status_code == 302, response.get_data(as_text=True)
        client.csrf = lambda path="/": csrf_token_from(client, path)
        return client


def csrf_token_from(client, path: str) -> str:
    import re

    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


@pytest.fixture
def portal(world, database_url):
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "portal-tests",
                      "ENCRYPTION_KEYS": [Fernet.generate_key()], "CLOCK": world.clock})
    limiter.reset()
    secrets = {}
    with app.app_context():
        creds = credentials()
        for who, user_id in world.users.items():
            user = get_user(world.uow, user_id)
            creds.create(user_id, user.email, PASSWORD, two_factor_required=who in NEEDS_CODE)
            if who in NEEDS_CODE:
                secrets[who] = pyotp.random_base32()
                creds.provision_code(user_id, secrets[who])
    return Portal(app, world, secrets)
