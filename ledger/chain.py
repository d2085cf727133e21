"""Tamper evidence: each entry's hash covers its content and the hash of the entry before it in its book.

Changing, removing or reordering any committed entry changes every hash after it, and ``verify`` names the
first entry whose stored hash no longer matches what its content gives.
"""
from __future__ import annotations

import hashlib
import json
from json.encoder import encode_basestring as _encode_string  # the encoder's own, with ensure_ascii off
from typing import Any, Iterable, Mapping

GENESIS = "0" * 64

# Built once: json.dumps with options builds a new encoder on every call, a third of the cost of a small value.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 as is: the same text for the same value, in every process."""
    return _CANONICAL.encode(value)


def request_hash(value: Any) -> str:
    """Fingerprint of a write request, to tell a replay from a different request under the same key."""
    return hashlib.sha256(canonical(value).encode()).hexdigest()


def entry_request_hash(postings: Iterable[Any], description: str, effective: int | None, reference: str | None,
                       actor: str | None, metadata: Mapping[str, Any], book: str | None) -> str:
    """``request_hash`` of a posting request: the text of ``canonical({"postings": [[account, amount,
    currency], ...], "description": ..., ...})``, written out directly (keys in sorted order)."""
    text = "".join((
        '{"actor":', _text(actor), ',"book":', _text(book), ',"description":', _text(description),
        ',"effective":', _number(effective), ',"meta":', canonical(metadata) if metadata else "{}",
        ',"postings":[', ",".join(["[" + _text(p.account) + "," + _number(p.amount) + "," + _text(p.currency) + "]"
                                   for p in postings]),
        '],"reference":', _text(reference), "}"))
    return hashlib.sha256(text.encode()).hexdigest()


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
    """sha256 of the previous hash, a newline and the canonical JSON of the entry's content:

    ``{"actor", "book", "description", "effective", "hold", "id", "key", "meta", "postings", "recorded",
    "reference", "reverses", "seq"}``, postings as ``[account, currency, amount]`` sorted (so the hash does not
    depend on the order rows come back from the database). The text is written out directly, keys in the
    order ``canonical`` sorts them into (quicker than the general encoder); ``canonical_entry`` is the same
    content through the general encoder, and a test holds the two to the same text.
    """
    text = "".join((
        previous, '\n{"actor":', _text(actor), ',"book":', _text(book), ',"description":', _text(description),
        ',"effective":', _number(effective_us), ',"hold":', _text(hold), ',"id":', _text(entry_id),
        ',"key":', _text(key), ',"meta":', canonical(metadata) if metadata else "{}",
        ',"postings":[', ",".join(["[" + _text(a) + "," + _text(c) + "," + _number(m) + "]"
                                   for a, c, m in sorted(postings)]),
        '],"recorded":', _number(recorded_us), ',"reference":', _text(reference), ',"reverses":', _text(reverses),
        ',"seq":', _number(sequence), "}"))
    return hashlib.sha256(text.encode()).hexdigest()


def canonical_entry(*, book: str, sequence: int, entry_id: str, key: str, effective_us: int, recorded_us: int,
                    description: str, reference: str | None, actor: str | None, metadata: Mapping[str, Any],
                    reverses: str | None, hold: str | None, postings: Iterable[tuple[str, str, int]]) -> str:
    """The entry's content as ``canonical`` writes it (what ``entry_hash`` hashes after the previous hash)."""
    return canonical({
        "book": book, "seq": sequence, "id": entry_id, "key": key, "effective": effective_us,
        "recorded": recorded_us, "description": description, "reference": reference, "actor": actor,
        "meta": metadata, "reverses": reverses, "hold": hold,
        "postings": sorted([list(p) for p in postings]),
    })


def _text(value: Any) -> str:
    """A string (or None) exactly as ``canonical`` writes it; anything else through ``canonical`` itself."""
    if value is None:
        return "null"
    if type(value) is str:
        return _encode_string(value)
    return canonical(value)


def _number(value: Any) -> str:
    if type(value) is int:
        return int.__repr__(value)
    return canonical(value)
