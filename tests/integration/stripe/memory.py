"""Simple in-memory versions of the interfaces the wallet domain will implement (see wallet.stripe_gateway.ports)."""
from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Mapping

from wallet.stripe_gateway import CardAccount, FundsUnavailable


@dataclass
class MemoryHold:
    id: str
    wallet: str
    key: str
    amount: int
    reason: str
    status: str = "pending"
    committed: int | None = None


class MemoryFunds:
    """Posted balances per wallet, and holds that reduce what is available until committed or released."""

    def __init__(self, balances: Mapping[str, int]):
        self.balances = dict(balances)
        self.holds: dict[str, MemoryHold] = {}
        self._by_key: dict[str, str] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def available(self, wallet: str) -> int:
        held = sum(h.amount for h in self.holds.values() if h.wallet == wallet and h.status == "pending")
        return self.balances[wallet] - held

    def hold(self, wallet: str, key: str, amount: int, reason: str) -> str:
        with self._lock:
            if key in self._by_key:
                return self._by_key[key]
            if amount > self.available(wallet):
                raise FundsUnavailable(f"wallet {wallet} cannot cover {amount}")
            hold = MemoryHold(f"hold-{next(self._ids)}", wallet, key, amount, reason)
            self.holds[hold.id] = hold
            self._by_key[key] = hold.id
            return hold.id

    def find_hold(self, key: str) -> str | None:
        return self._by_key.get(key)

    def commit(self, hold_id: str, amount: int) -> None:
        with self._lock:
            hold = self.holds[hold_id]
            if hold.status != "pending":
                raise RuntimeError(f"hold {hold_id} is {hold.status}")
            self.balances[hold.wallet] -= amount
            hold.status, hold.committed = "committed", amount

    def release(self, hold_id: str) -> None:
        with self._lock:
            hold = self.holds[hold_id]
            if hold.status != "pending":
                raise RuntimeError(f"hold {hold_id} is {hold.status}")
            hold.status = "released"

    def hold_for(self, key: str) -> MemoryHold | None:
        hold_id = self._by_key.get(key)
        return self.holds.get(hold_id) if hold_id else None


@dataclass
class MemoryCards:
    cards: dict[str, CardAccount] = field(default_factory=dict)
    spending: dict[str, dict[str, int]] = field(default_factory=dict)
    asked: list[tuple[str, datetime]] = field(default_factory=list)

    def card(self, card_id: str) -> CardAccount | None:
        return self.cards.get(card_id)

    def spent(self, card_id: str, at: datetime) -> Mapping[str, int]:
        self.asked.append((card_id, at))
        return self.spending.get(card_id, {})


class MemoryProcessedEvents:
    def __init__(self) -> None:
        self.replies: dict[str, tuple[str, bytes]] = {}
        self._lock = threading.Lock()

    def reply_for(self, event_id: str) -> bytes | None:
        found = self.replies.get(event_id)
        return found[1] if found else None

    def record(self, event_id: str, event_type: str, reply: bytes) -> bool:
        with self._lock:
            if event_id in self.replies:
                return False
            self.replies[event_id] = (event_type, reply)
            return True
