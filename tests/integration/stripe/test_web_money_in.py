"""Money in on the card page, on SQLite and PostgreSQL: the Direct Debit mandate with its bank details masked, a
contribution collected from the page under it (the real stripe library against the local fake), and the payment
shown as on its way, then received once Stripe's signed webhook says so. Bad input is refused and asks for
nothing from Stripe."""
from __future__ import annotations

import copy
import re

import pytest

from tests.integration.stripe.test_mandates import set_up, succeeded_event
from tests.integration.stripe.test_web import post, site  # noqa: F401  (fixture)
from tests.integration.web.conftest import portal  # noqa: F401  (fixture)
from wallet.domain import cards


@pytest.fixture
def mandate(site, fake, gateway):  # noqa: F811
    site.app.config.update(STRIPE_SECRET_KEY=fake.api_key, STRIPE_API_BASE=fake.url)
    setup_id, _ = set_up(fake, gateway, site.world)
    assert post(site.client(), fake, succeeded_event(fake, setup_id)).status_code == 200
    cards.finish_direct_debit(site.world.uow, gateway, site.world.wallet.id, setup_id,
                              actor=site.world.users["holder"])
    return setup_id


def collect(client, wallet_id: str, **form):
    page = client.get(f"/wallets/{wallet_id}/card").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post(f"/wallets/{wallet_id}/card/direct-debit", data={"csrf_token": token, **form})


def test_collect_a_contribution_from_the_page_and_see_it_arrive(site, fake, mandate):  # noqa: F811
    w = site.world
    holder = site.client("holder")
    page = holder.get(f"/wallets/{w.wallet.id}/card").get_data(as_text=True)
    assert "from the account **-**-00 ending 2345" in page and "Active" in page
    assert "108800" not in page and "00012345" not in page

    done = collect(holder, w.wallet.id, stream=w.own.id, amount="60.00", key="k-1")
    assert done.status_code == 302
    again = collect(holder, w.wallet.id, stream=w.own.id, amount="60.00", key="k-1")   # a double click
    assert again.status_code == 302
    [intent] = [o for o in fake.objects.values() if o.get("object") == "payment_intent"]
    assert intent["amount"] == 6_000 and intent["mandate"] == fake.objects[mandate]["mandate"]
    page = holder.get(f"/wallets/{w.wallet.id}/card").get_data(as_text=True)
    assert "On its way" in page and "£60.00" in page
    assert w.cash(w.own).posted == 12_000

    succeeded = fake.event("payment_intent.succeeded", copy.deepcopy(fake.succeed_payment_intent(intent["id"])))
    assert post(site.client(), fake, succeeded).status_code == 200
    assert w.cash(w.own).posted == 18_000
    assert "Received" in holder.get(f"/wallets/{w.wallet.id}/card").get_data(as_text=True)


@pytest.mark.parametrize("form, field, words", [
    ({"amount": "60.00"}, "stream", "Choose a funder with an active Direct Debit"),
    ({"amount": "sixty"}, "amount", "Enter the amount in pounds and pence"),
    ({"amount": "-5"}, "amount", "more than £0.00"),
    ({"amount": "20000.00"}, "amount", "£10,000.00 or less"),
])
def test_bad_input_is_refused_plainly_and_asks_stripe_for_nothing(site, fake, mandate, form, field, words):  # noqa: F811
    w = site.world
    if field != "stream":
        form = {**form, "stream": w.own.id}
    refused = collect(site.client("holder"), w.wallet.id, **form)
    assert refused.status_code == 400
    assert words in refused.get_data(as_text=True)
    assert fake.calls("POST", "/v1/payment_intents") == []


def test_only_those_who_manage_the_wallet_may_collect(site, fake, mandate):  # noqa: F811
    w = site.world
    overseer = site.client("overseer")
    page = overseer.get(f"/wallets/{w.wallet.id}/card").get_data(as_text=True)
    assert "Collect by Direct Debit" not in page and "**-**-00" in page
    assert collect(overseer, w.wallet.id, stream=w.own.id, amount="5.00").status_code == 403
    assert fake.calls("POST", "/v1/payment_intents") == []
