"""The standard test wallet (tests/integration/wallet/conftest.py) with an evidence store in a temporary folder,
and one payment made from it (the entry evidence is attached to)."""
from __future__ import annotations

import pytest

from tests.integration.wallet.conftest import World, uow, world  # noqa: F401  (fixtures)
from wallet.domain import payments
from wallet.domain.chart import Category
from wallet.evidence.storage import EvidenceStore


@pytest.fixture
def store(tmp_path):
    return EvidenceStore(tmp_path / "evidence")


@pytest.fixture
def paid(world):
    """A payment to the leisure centre, approved: its ledger entry."""
    w = world
    request = payments.request_payment(w.uow, w.wallet.id, actor=w.users["holder"], payee_id=w.shop.id,
                                       amount=2_500, category=Category.ACTIVITIES, description="Swimming lessons")
    done = payments.approve_payment(w.uow, request.id, actor=w.users["appointee"])
    return w.ledger.entry(done.entry_id)
