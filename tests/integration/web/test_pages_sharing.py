"""Sharing with a family member (grant, change, revoke) and the access log that records who looked."""
from __future__ import annotations

import html as htmllib
import re

from wallet.domain import access_log, people
from wallet.domain.permissions import Action, Role
from wallet.domain.unit_of_work import SYSTEM


def test_holder_sees_who_can_see_and_shares_then_stops_sharing(portal):
    w = portal.world
    holder = portal.client("holder")
    path = f"/wallets/{w.wallet.id}/sharing"
    page = holder.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for rel in people.relationships(w.uow, w.wallet.id, actor=SYSTEM):
        assert f'data-user-id="{rel.user_id}" data-role="{rel.role.value}"' in html

    # Nothing chosen, and an address nobody uses: errors, nothing changes.
    bad = holder.post(path, data={"csrf_token": holder.csrf(path), "email": "nobody@example.org"})
    assert bad.status_code == 400
    text = htmllib.unescape(bad.get_data(as_text=True))
    assert "There is no Care Wallet account with that email address" in text
    assert "Choose what they can see" in text and 'href="#shares-balance"' in text

    stranger = w.users["stranger"]
    done = holder.post(path, data={"csrf_token": holder.csrf(path), "email": "Stranger@Example.org",
                                   "shares": ["view_balance"]})
    assert done.status_code == 302
    assert "Stranger can now see the balance. They cannot move any money." in htmllib.unescape(
        holder.get(path).get_data(as_text=True))
    rels = {(r.user_id, r.role): r for r in people.relationships(w.uow, w.wallet.id, actor=SYSTEM) if not r.revoked}
    assert rels[(stranger, Role.FAMILY_OVERSEER)].shares == frozenset({Action.VIEW_BALANCE})

    viewer = portal.client("stranger")
    assert viewer.get(f"/wallets/{w.wallet.id}").status_code == 200
    assert viewer.get(f"/wallets/{w.wallet.id}/transactions").status_code == 403

    revoke = holder.post(f"{path}/{stranger}/revoke", data={"csrf_token": holder.csrf(path)})
    assert revoke.status_code == 302
    assert viewer.get(f"/wallets/{w.wallet.id}").status_code == 403
    html = holder.get(path).get_data(as_text=True)
    assert re.search(r'id="revoked">\s*<li>Stranger', html)
    # Revoking someone who is not shared with is a plain 404.
    again = holder.post(f"{path}/{stranger}/revoke", data={"csrf_token": holder.csrf(path)})
    assert again.status_code == 404


def test_access_log_shows_who_looked_and_who_was_refused_in_uk_time(portal):
    w = portal.world
    w.clock.advance(hours=4)   # 13:00 UTC on 6 April is 2pm in London (BST)
    overseer = portal.client("overseer")
    assert overseer.get(f"/wallets/{w.wallet.id}/transactions").status_code == 200
    assert overseer.get(f"/wallets/{w.wallet.id}/sharing").status_code == 403
    appointee = portal.client("appointee")
    page = appointee.get(f"/wallets/{w.wallet.id}/access-log")
    assert page.status_code == 200
    html = htmllib.unescape(page.get_data(as_text=True))
    rows = re.findall(r'<tr class="outcome-(\w+)"><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>', html)
    records = access_log.access_log(w.uow, w.wallet.id, actor=w.users["holder"])
    assert len(rows) == len(records) - 1   # the page was read before its own visit to the log was written
    assert ("done", "6 April 2026 at 2:00pm", "Overseer", "Looked at the transactions (transactions page)",
            "Done") in rows
    assert ("denied", "6 April 2026 at 2:00pm", "Overseer", "Looked at or changed sharing (sharing page)",
            "Not allowed") in rows
    assert any(who == "Care Wallet (automatic)" for _, _, who, _, _ in rows)

    for role in ("overseer", "manager"):
        assert portal.client(role).get(f"/wallets/{w.wallet.id}/access-log").status_code == 403
