"""Money out of a client account: payment batches, Bacs Standard 18 files and bank bulk-payment CSVs.

Plain data and pure functions; nothing here touches a database or the network. The wallet domain builds a
batch from approved payables (each line names the ledger entry it settles), exports it once, and confirms lines
paid when the bank says so; the ledger postings for those steps belong to the wallet domain.
"""
from wallet.money_out.bacs18 import BacsCycle, Originator, bacs_cycle, export_bacs18, julian, render_bacs18
from wallet.money_out.bank_details import BankAccount, bacs_name, bacs_reference, bacs_text
from wallet.money_out.batch import (
    BACS_ITEM_LIMIT, BatchStatus, Export, PaymentBatch, PaymentKind, PaymentLine, cancel, check_cancellable,
    confirm_paid, ensure_exportable, mark_exported, new_batch,
)
from wallet.money_out.bulk_csv import export_bulk_csv, pounds, protect_cell, render_bulk_csv
from wallet.money_out.errors import (
    AlreadyExported, AlreadyPaid, BacsFileError, BatchCancelled, BatchStateError, BatchValidationError,
    CancelRefused, LineProblem, MoneyOutError, NotExported, PaymentLineError,
)

__all__ = [
    "AlreadyExported", "AlreadyPaid", "BACS_ITEM_LIMIT", "BacsCycle", "BacsFileError", "BankAccount",
    "BatchCancelled", "BatchStateError", "CancelRefused", "cancel", "check_cancellable", "BatchStatus", "BatchValidationError", "Export", "LineProblem", "MoneyOutError",
    "NotExported", "Originator", "PaymentBatch", "PaymentKind", "PaymentLine", "PaymentLineError", "bacs_cycle",
    "bacs_name", "bacs_reference", "bacs_text", "confirm_paid", "ensure_exportable", "export_bacs18",
    "export_bulk_csv", "julian", "mark_exported", "new_batch", "pounds", "protect_cell", "render_bacs18",
    "render_bulk_csv",
]
