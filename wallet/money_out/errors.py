"""What can go wrong when money goes out. Messages name the line and the field, never the bank details."""
from __future__ import annotations

from dataclasses import dataclass


class MoneyOutError(Exception):
    """Base of every error in wallet.money_out."""


class PaymentLineError(MoneyOutError, ValueError):
    """One field of one payment line is wrong."""

    def __init__(self, field: str, message: str, *, line_id: str | None = None, payee: str | None = None):
        self.field = field
        self.problem = message
        self.line_id = line_id
        self.payee = payee
        super().__init__(self._text())

    def _text(self) -> str:
        who = []
        if self.line_id:
            who.append(f"line {self.line_id!r}")
        if self.payee:
            who.append(f"payee {self.payee!r}")
        prefix = f"{' '.join(who)}: " if who else ""
        return f"{prefix}{self.problem}"


@dataclass(frozen=True)
class LineProblem:
    """One problem found while checking a batch: which line (1-based position and id), which field, what."""

    position: int
    line_id: str | None
    payee: str | None
    field: str
    message: str

    def __str__(self) -> str:
        who = f"line {self.position}"
        if self.line_id:
            who += f" ({self.line_id}"
            who += f", {self.payee})" if self.payee else ")"
        elif self.payee:
            who += f" ({self.payee})"
        return f"{who}: {self.message}"


class BatchValidationError(MoneyOutError, ValueError):
    """A batch could not be made: every problem found is listed, so they can all be fixed at once."""

    def __init__(self, batch_id: str, problems: list[LineProblem] | tuple[LineProblem, ...]):
        self.batch_id = batch_id
        self.problems = tuple(problems)
        count = len(self.problems)
        listed = "; ".join(str(p) for p in self.problems)
        super().__init__(f"payment batch {batch_id!r} has {count} problem{'s' if count != 1 else ''}: {listed}")


class BatchStateError(MoneyOutError):
    """The batch is not in a state that allows this step."""


class AlreadyExported(BatchStateError):
    pass


class NotExported(BatchStateError):
    pass


class AlreadyPaid(BatchStateError):
    pass


class BatchCancelled(BatchStateError):
    """The batch was cancelled: it is never exported or paid."""


class CancelRefused(BatchStateError):
    """The batch cannot be cancelled (some of it was paid, no reason given, or its file may have been sent)."""


class BacsFileError(MoneyOutError, ValueError):
    """The Bacs file cannot be written as asked (processing day, serial number, service user details)."""
