"""Posts one large batch; the crash test kills this process while it is writing."""
import sys

from ledger.model import EntryRequest, Posting
from ledger.service import Ledger

url, count = sys.argv[1], int(sys.argv[2])
ledger = Ledger(url)
batch = [EntryRequest(f"crash-{i}", (Posting.debit("w1:wages", 1), Posting.credit("w1:cash", 1)))
         for i in range(count)]
print("writing", flush=True)
ledger.post_batch(batch)
print("done", flush=True)
