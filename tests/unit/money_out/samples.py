"""A realistic pay-day batch: net pay to two PAs, PAYE to HMRC, a pension provider and an agency invoice."""
from __future__ import annotations

from datetime import datetime, timezone

from wallet.money_out import BankAccount, Originator, PaymentBatch, PaymentLine, new_batch

CREATED = datetime(2026, 4, 20, 9, 30, tzinfo=timezone.utc)

# The digits below are made up; the secret test checks none of them leaks into a repr, str or log line.
SECRET_DIGITS = ("112233", "44556677", "223344", "55667788", "083210", "12001039", "334455", "66778899",
                 "445566", "77889900", "409876", "13572468")

ORIGINATOR = Originator(service_user_number="654321", name="Ashdown Support Client Account",
                        account=BankAccount("40-98-76", "13572468"))


def line(n: int = 1, **over) -> PaymentLine:
    data = dict(line_id=f"L{n}", kind="net_pay", payee_name=f"Personal Assistant {n}",
                account=BankAccount("11-22-33", "44556677"), amount=10_000 * n, reference=f"PAY APR 2026 {n}",
                settles_entry=f"entry-{n}")
    data.update(over)
    return PaymentLine(**data)


def pay_day_lines() -> list[PaymentLine]:
    return [
        PaymentLine(line_id="net-amira", kind="net_pay", payee_name="Amira Khan",
                    account=BankAccount("11-22-33", "44556677"), amount=123_456, reference="ASHDOWN PAY APR26",
                    settles_entry="e-net-amira"),
        PaymentLine(line_id="net-tom", kind="net_pay", payee_name="Tom O'Neill-Brennan Jr.",
                    account=BankAccount("22 33 44", "55667788"), amount=98_765, reference="ASHDOWN PAY APR26",
                    settles_entry="e-net-tom"),
        PaymentLine(line_id="paye", kind="hmrc", payee_name="HMRC Cumbernauld",
                    account=BankAccount("083210", "12001039"), amount=41_230, reference="123PA001234562601",
                    settles_entry="e-paye"),
        PaymentLine(line_id="pension", kind="pension", payee_name="NEST Pensions",
                    account=BankAccount("33-44-55", "66778899"), amount=8_120, reference="EMP 40012345",
                    settles_entry="e-pension"),
        PaymentLine(line_id="agency", kind="supplier", payee_name="Brightside Care & Support Ltd",
                    account=BankAccount("44-55-66", "77889900"), amount=250_000, reference="INV/2026/0417",
                    settles_entry="e-agency"),
    ]


def pay_day_batch() -> PaymentBatch:
    return new_batch("PB-2026-04-A", pay_day_lines(), created_at=CREATED, description="April 2026 pay day")
