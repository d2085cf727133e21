"""The hashes write their JSON text out directly, for speed; it must be exactly what the general encoder writes."""
import hashlib

from hypothesis import given, strategies as st

from ledger import chain
from ledger.model import Posting

text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
maybe_text = st.none() | text
json_values = st.recursive(st.none() | st.booleans() | st.integers() | text,
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
                           max_leaves=8)
metadata = st.dictionaries(text, json_values, max_size=4)
postings = st.lists(st.tuples(text, st.sampled_from(["GBP", "EUR"]), st.integers()), min_size=0, max_size=5)


@given(previous=text, book=text, sequence=st.integers(), entry_id=text, key=text, effective=st.integers(),
       recorded=st.integers(), description=text, reference=maybe_text, actor=maybe_text, meta=metadata,
       reverses=maybe_text, hold=maybe_text, lines=postings)
def test_entry_hash_is_sha256_of_the_canonical_content(previous, book, sequence, entry_id, key, effective, recorded,
                                                       description, reference, actor, meta, reverses, hold, lines):
    fields = dict(book=book, sequence=sequence, entry_id=entry_id, key=key, effective_us=effective,
                  recorded_us=recorded, description=description, reference=reference, actor=actor,
                  metadata=meta, reverses=reverses, hold=hold, postings=lines)
    expected = hashlib.sha256((previous + "\n" + chain.canonical_entry(**fields)).encode()).hexdigest()
    assert chain.entry_hash(previous=previous, **fields) == expected


@given(lines=st.lists(st.tuples(text, st.integers(), text), max_size=4), description=text,
       effective=st.none() | st.integers(), reference=maybe_text, actor=maybe_text, meta=metadata, book=maybe_text)
def test_request_hash_of_an_entry_is_the_hash_of_its_canonical_request(lines, description, effective, reference,
                                                                       actor, meta, book):
    expected = chain.request_hash({
        "postings": [[a, m, c] for a, m, c in lines], "description": description, "effective": effective,
        "reference": reference, "actor": actor, "meta": meta, "book": book})
    assert chain.entry_request_hash([Posting(a, m, c) for a, m, c in lines], description, effective, reference,
                                    actor, meta, book) == expected


def test_a_known_entry_hash_does_not_change():
    """Pinned: books written before the direct encoding verify after it."""
    digest = chain.entry_hash(
        previous=chain.GENESIS, book="w1", sequence=1, entry_id="e-1", key="fund-1", effective_us=5, recorded_us=6,
        description='Council "funding" – £', reference=None, actor="officer:1", metadata={"b": [1, True], "a": None},
        reverses=None, hold=None, postings=[("w1:council", "GBP", -100), ("w1:cash", "GBP", 100)])
    content = ('{"actor":"officer:1","book":"w1","description":"Council \\"funding\\" – £","effective":5,'
               '"hold":null,"id":"e-1","key":"fund-1","meta":{"a":null,"b":[1,true]},'
               '"postings":[["w1:cash","GBP",100],["w1:council","GBP",-100]],"recorded":6,"reference":null,'
               '"reverses":null,"seq":1}')
    assert digest == hashlib.sha256((chain.GENESIS + "\n" + content).encode()).hexdigest()
