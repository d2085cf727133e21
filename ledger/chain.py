"""Tamper evidence: each entry's hash covers its content and the hash of the entry before it in its book.

Changing, removing or reordering any committed entry changes every hash after it, and ``verify`` names the
first entry whose stored hash no longer matches what its content gives.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Iterable, Mapping

GENESIS = "0" * 64


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def request_hash(value: Any) -> str:
    """Fingerprint of a write request, to tell a replay from a different request under the same key."""
    return hashlib.sha256(canonical(value).encode()).hexdigest()


def entry_hash(
    *,
    previous: str,
    book: str,
    sequence: int,
    entry_id: str,
    key: str,
    effective_us: int,
    recorded_us: int,
    description: str,
    reference: str | None,
    actor: str | None,
    metadata: Mapping[str, Any],
    reverses: str | None,
    hold: str | None,
    postings: Iterable[tuple[str, str, int]],
) -> str:
    content = {
        "book": book,
        "seq": sequence,
        "id": entry_id,
        "key": key,
        "effective": effective_us,
        "recorded": recorded_us,
        "description": description,
        "reference": reference,
        "actor": actor,
        "meta": metadata,
        "reverses": reverses,
        "hold": hold,
        # Sorted, so the hash does not depend on the order rows come back from the database.
        "postings": sorted([list(p) for p in postings]),
    }
    return hashlib.sha256((previous + "\n" + canonical(content)).encode()).hexdigest()
