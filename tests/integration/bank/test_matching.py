"""The pure matcher: exact, near and no match; one line to one entry and back; best pairs first."""
from __future__ import annotations

from datetime import date, timedelta

from wallet.bank.matching import (AUTO_DAYS, NEAR_DAYS, Candidate, LineToMatch, match, named_in, similarity,
                                  words)

D = date(2026, 4, 8)


def test_words_drop_banking_noise():
    assert words("FPO TO JO SMITH REF 1043 PAYMENT") == ("JO", "SMITH", "1043")


def test_similarity_is_a_whole_number_out_of_100():
    assert similarity("JO SMITH WAGES", "Wages, first week (Jo Smith)") == 100
    assert similarity("BRIGHTCA", "Bright Care visits") == 100     # a name the bank cut short
    assert named_in("Bright Care", "BRIGHT CARE LTD INV 1043") == 100
    assert similarity("TESCO STORES 2231", "Swimming (Leeds Leisure)") < 40
    assert similarity("", "anything") == 0


def test_exact_match():
    out = match([LineToMatch("l", D + timedelta(days=1), -45_000, "JO SMITH")],
                [Candidate("e", D, -45_000, "Wages (Jo Smith)", "Jo Smith")])
    assert (out["l"].status, out["l"].entry_id, out["l"].days_apart, out["l"].similarity) == ("matched", "e", 1, 100)


def test_near_matches_are_suggested():
    late = match([LineToMatch("l", D + timedelta(days=AUTO_DAYS + 1), -2_500, "LEEDS LEISURE")],
                 [Candidate("e", D, -2_500, "Swimming (Leeds Leisure)", "Leeds Leisure")])
    assert (late["l"].status, late["l"].entry_id) == ("suggested", "e")
    vague = match([LineToMatch("l", D, 186_000, "BGC 778812")], [Candidate("e", D, 186_000, "Money received")])
    assert vague["l"].status == "suggested"


def test_no_match_when_the_amount_or_the_dates_differ():
    out = match([LineToMatch("a", D, -45_001, "JO SMITH"), LineToMatch("b", D + timedelta(days=NEAR_DAYS + 1),
                                                                      -45_000, "JO SMITH")],
                [Candidate("e", D, -45_000, "Wages (Jo Smith)", "Jo Smith")])
    assert out["a"].status == out["b"].status == "unmatched"
    # Money in never pairs with money out of the same size.
    assert match([LineToMatch("c", D, 45_000, "JO SMITH")],
                 [Candidate("e", D, -45_000, "Jo Smith")])["c"].status == "unmatched"


def test_each_entry_pairs_with_one_line_and_identical_payments_keep_their_own_days():
    lines = [LineToMatch(k, D + timedelta(days=7 * k + 1), -12_000, "JO SMITH") for k in range(4)]
    entries = [Candidate(f"e{k}", D + timedelta(days=7 * k), -12_000, "Wages (Jo Smith)", "Jo Smith")
               for k in range(3)]
    out = match(lines, entries)
    assert [out[k].entry_id for k in range(3)] == ["e0", "e1", "e2"]
    assert all(out[k].status == "matched" for k in range(3))
    assert out[3].status in ("suggested", "unmatched") and out[3].entry_id is None
    # The better pair wins: the exact one is matched, the other line gets nothing.
    two = match([LineToMatch("far", D + timedelta(days=6), -999, "SHOP"), LineToMatch("near", D, -999, "SHOP")],
                [Candidate("e", D, -999, "Shop")])
    assert (two["near"].status, two["far"].status) == ("matched", "unmatched")
