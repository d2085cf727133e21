"""Matching bank lines to ledger entries: pure functions, no I/O.

A pair needs the same amount, to the penny, in the same direction. Then:

* **matched** (automatically): booked within ``AUTO_DAYS`` of each other (a bank can take a weekend to book a
  payment) and the payee or reference text agrees (similarity at least ``AUTO_SIMILARITY`` out of 100);
* **suggested**: the amount agrees and the dates are within ``NEAR_DAYS``, but the text or the dates do not
  agree well enough to be sure: a person confirms it or chooses another;
* otherwise the line is **unmatched**, left for a person to match or explain.

Each line pairs with at most one entry and each entry with at most one line. Pairs are chosen best first
(matched before suggested, then higher similarity, then fewer days apart, then earlier), so two identical
payments on two days pair with their own days. Similarity is worked out in whole numbers (difflib's matching
blocks, counted), never in floating point.
"""
from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date
from difflib import SequenceMatcher
from typing import Hashable, Iterable, Sequence

AUTO_DAYS = 3
NEAR_DAYS = 10
AUTO_SIMILARITY = 60
MAX_CANDIDATES = 40
"""At most this many entries (the nearest in date) are weighed for one line: many identical amounts on the same
days (weekly wages) need no more."""

MATCHED, SUGGESTED, UNMATCHED = "matched", "suggested", "unmatched"

# Words banks and the books add around the names that matter.
_NOISE = frozenset("""
    A AND AT BACS BGC BP CARD CD CHQ CONTACTLESS CR CREDIT DD DEB DEBIT DIRECT DR FASTER FOR FPI FPO FPS FROM FT
    GB GBP LTD LIMITED MONTHLY OF ON ONLINE PAID PAYMENT PAYMENTS POS RECEIVED REF REFERENCE RUN SO STO STANDING
    ORDER THE TO TFR TRANSFER VIA VIS VISA WITH MONEY BANK PLC INTERNET MOBILE BILL
""".split())
_WORD = re.compile(r"[A-Z0-9]+")


@dataclass(frozen=True)
class LineToMatch:
    key: Hashable
    booked_on: date
    amount: int
    text: str


@dataclass(frozen=True)
class Candidate:
    entry_id: str
    on: date
    amount: int
    text: str
    payee: str = ""
    """Who was paid or paid in, when the books know (a payee's name): found whole in the bank's words, it is
    enough on its own."""


@dataclass(frozen=True)
class Outcome:
    status: str
    """matched, suggested or unmatched."""
    entry_id: str | None = None
    entry_on: date | None = None
    similarity: int = 0
    days_apart: int = 0


def words(text: str) -> tuple[str, ...]:
    """The words that can tell payees apart: upper case, no punctuation, no banking noise, no lone letters."""
    return tuple(w for w in _WORD.findall((text or "").upper()) if len(w) > 1 and w not in _NOISE
                 and not w.isdigit() or (w.isdigit() and len(w) >= 4))


def _ratio(a: str, b: str) -> int:
    """difflib's ratio, out of 100, with integers only."""
    if not a or not b:
        return 0
    same = sum(block.size for block in SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks())
    return 200 * same // (len(a) + len(b))


def similarity(a: str | Sequence[str], b: str | Sequence[str]) -> int:
    """How far two descriptions name the same payee, 0 to 100: the share of the shorter one's words found in
    the other (a word counts when it is nearly the same, for banks that cut names short), or the likeness of
    the two texts as a whole, whichever is higher."""
    wa = words(a) if isinstance(a, str) else tuple(a)
    wb = words(b) if isinstance(b, str) else tuple(b)
    if not wa or not wb:
        return 0
    sa, sb = set(wa), set(wb)
    short, others = (sa, sb) if len(sa) <= len(sb) else (sb, sa)
    found = sum(1 for w in short if w in others or any(_close(w, o) for o in others))
    overlap = 100 * found // len(short)
    if overlap == 100:
        return 100          # nothing scores higher: the whole-text likeness need not be worked out
    return max(overlap, _ratio(" ".join(sorted(sa)), " ".join(sorted(sb))))


def named_in(name: str | Sequence[str], text: str | Sequence[str]) -> int:
    """The share (0 to 100) of a payee's name words that the text has (nearly) word for word."""
    wn = set(words(name) if isinstance(name, str) else name)
    wt = set(words(text) if isinstance(text, str) else text)
    if not wn or not wt:
        return 0
    found = sum(1 for w in wn if w in wt or any(_close(w, o) for o in wt))
    return 100 * found // len(wn)


def _close(a: str, b: str) -> bool:
    if len(a) < 4 or len(b) < 4:
        return False
    if a.startswith(b) or b.startswith(a):
        return True          # "BRIGHTCA" cut short for "BRIGHTCARE"
    return _ratio(a, b) >= 85


def match(lines: Iterable[LineToMatch], candidates: Iterable[Candidate]) -> dict[Hashable, Outcome]:
    """The outcome for every line: each entry is paired with at most one line, best pairs first."""
    todo = list(lines)
    by_amount: dict[int, list[Candidate]] = {}
    for c in candidates:
        by_amount.setdefault(c.amount, []).append(c)
    days: dict[int, list[int]] = {}
    for amount, found in by_amount.items():
        found.sort(key=lambda c: (c.on, c.entry_id))
        days[amount] = [c.on.toordinal() for c in found]
    word_cache: dict[str, tuple[str, ...]] = {}

    def words_of(text: str) -> tuple[str, ...]:
        got = word_cache.get(text)
        if got is None:
            got = word_cache[text] = words(text)
        return got

    pairs: list[tuple[int, int, int, int, int, int, Candidate]] = []
    for index, line in enumerate(todo):
        found = by_amount.get(line.amount)
        if not found:
            continue
        day = line.booked_on.toordinal()
        ordinals = days[line.amount]
        lo, hi = bisect_left(ordinals, day - NEAR_DAYS), bisect_right(ordinals, day + NEAR_DAYS)
        near = found[lo:hi]
        if len(near) > MAX_CANDIDATES:
            near = sorted(near, key=lambda c: abs(c.on.toordinal() - day))[:MAX_CANDIDATES]
        line_words = words_of(line.text)
        for c in near:
            apart = abs(c.on.toordinal() - day)
            sim = similarity(line_words, words_of(c.text))
            if c.payee and sim < 100:
                sim = max(sim, named_in(words_of(c.payee), line_words))
            tier = 0 if apart <= AUTO_DAYS and sim >= AUTO_SIMILARITY else 1
            # sort key: tier, most similar, fewest days, the line's order, the entry's date
            pairs.append((tier, -sim, apart, index, c.on.toordinal(), len(pairs), c))
    pairs.sort(key=lambda p: p[:6])
    used_lines: set[int] = set()
    used_entries: set[str] = set()
    out: dict[Hashable, Outcome] = {}
    for tier, neg_sim, apart, index, _, _, c in pairs:
        if index in used_lines or c.entry_id in used_entries:
            continue
        used_lines.add(index)
        used_entries.add(c.entry_id)
        out[todo[index].key] = Outcome(MATCHED if tier == 0 else SUGGESTED, c.entry_id, c.on, -neg_sim, apart)
    for index, line in enumerate(todo):
        if index not in used_lines:
            out[line.key] = Outcome(UNMATCHED)
    return out
