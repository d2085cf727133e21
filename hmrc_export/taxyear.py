"""Tax years, tax months and the namespaces HMRC gives each year's RTI messages."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

ENVELOPE_NS = "http://www.govtalk.gov.uk/CM/envelope"


@dataclass(frozen=True, order=True)
class TaxYear:
    """The tax year starting on 6 April of ``start_year``."""
    start_year: int

    @classmethod
    def of(cls, day: date) -> "TaxYear":
        return cls(day.year if day >= date(day.year, 4, 6) else day.year - 1)

    @classmethod
    def parse(cls, text: str) -> "TaxYear":
        """'2026-27' or '26-27' -> TaxYear(2026)."""
        first = text.split("-")[0]
        year = int(first) if len(first) == 4 else 2000 + int(first)
        return cls(year)

    @property
    def first_day(self) -> date:
        return date(self.start_year, 4, 6)

    @property
    def last_day(self) -> date:
        return date(self.start_year + 1, 4, 5)

    @property
    def short(self) -> str:
        """``RelatedTaxYear`` form: '26-27'."""
        return f"{self.start_year % 100:02d}-{(self.start_year + 1) % 100:02d}"

    @property
    def label(self) -> str:
        """Folder and people form: '2026-27'."""
        return f"{self.start_year}-{(self.start_year + 1) % 100:02d}"

    def __contains__(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day

    def fps_namespace(self) -> str:
        return f"http://www.govtalk.gov.uk/taxation/PAYE/RTI/FullPaymentSubmission/{self.short}/1"

    def eps_namespace(self) -> str:
        return f"http://www.govtalk.gov.uk/taxation/PAYE/RTI/EmployerPaymentSummary/{self.short}/1"

    def month_start(self, month: int) -> date:
        """First day (the 6th) of tax month 1..12."""
        if not 1 <= month <= 12:
            raise ValueError(f"tax month {month} is not between 1 and 12")
        year, mon = self.start_year, 4 + month - 1
        if mon > 12:
            year, mon = year + 1, mon - 12
        return date(year, mon, 6)

    def month_end(self, month: int) -> date:
        """Last day (the 5th) of tax month 1..12."""
        return (self.month_start(month + 1) - timedelta(days=1)) if month < 12 else self.last_day


def tax_month(day: date) -> int:
    """Tax month 1..12 of a date: month 1 runs 6 April to 5 May."""
    year = TaxYear.of(day)
    months = (day.year - year.start_year) * 12 + day.month - 4
    return months + (1 if day.day >= 6 else 0)


def tax_week(day: date) -> int:
    """Tax week 1..53 (54/56 never come from a date): week 1 is 6-12 April."""
    return (day - TaxYear.of(day).first_day).days // 7 + 1
