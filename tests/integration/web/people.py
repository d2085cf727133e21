"""People who can sign in, for the portal tests: a wallet-domain user with a password (and two-step sign-in)."""
from __future__ import annotations

import re

from wallet.domain.people import create_user
from wallet.web.auth import credentials
from wallet.web.context import uow

PASSWORD = "correct horse battery staple"


def person(app, name: str, email: str, *, staff_role=None, organisation_ref=None, two_factor: bool = False,
           password: str = PASSWORD) -> str:
    """Create the user and their sign-in; returns the user id."""
    with app.app_context():
        user = create_user(uow(), name=name, email=email, staff_role=staff_role, organisation_ref=organisation_ref)
        credentials().create(user.id, email, password, two_factor_required=two_factor)
    return user.id


def csrf_token(client, path: str = "/sign-in") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def sign_in(client, email: str, password: str = PASSWORD, next_path: str | None = None):
    token = csrf_token(client, "/sign-in")
    url = "/sign-in" + (f"?next={next_path}" if next_path else "")
    return client.post(url, data={"email": email, "password": password, "csrf_token": token})
