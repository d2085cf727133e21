"""HMRC export: RTI messages (FPS, EPS) with their IRmark, checks before sending, the Transaction Engine
client, and the documents people get (P60, P45, P32). Reads pay-run figures; touches no database."""
from hmrc_export.envelope import ChannelRouting
from hmrc_export.eps import build_eps
from hmrc_export.fps import build_fps, correction
from hmrc_export.irmark import IRmark, compute_irmark, verify_irmark
from hmrc_export.model import (Address, Employee, EmployeePayment, Employer, EmployerPaymentSummary, Gender,
                               HoursWorked, LateReason, Name, NIContributions, Payment, PayFrequency,
                               RecoverableAmounts, Starter, StarterDeclaration, StatutoryPayToDate, StudentLoanPlan,
                               TaxCode, TaxRegime)
from hmrc_export.taxyear import TaxYear
from hmrc_export.validate import Problem, SubmissionInvalid, check, find_problems

__all__ = [
    "Address", "ChannelRouting", "Employee", "EmployeePayment", "Employer", "EmployerPaymentSummary", "Gender",
    "HoursWorked", "IRmark", "LateReason", "Name", "NIContributions", "Payment", "PayFrequency", "Problem",
    "RecoverableAmounts", "Starter", "StarterDeclaration", "StatutoryPayToDate", "StudentLoanPlan",
    "SubmissionInvalid", "TaxCode", "TaxRegime", "TaxYear", "build_eps", "build_fps", "check", "compute_irmark",
    "correction", "find_problems", "verify_irmark",
]
