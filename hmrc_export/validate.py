"""Checks before sending: HMRC's schema for the message's tax year, then HMRC's business rules.

Problems name the employee (payroll id and name) and the field in plain English, so whoever runs the payroll can
fix the pay run without reading XML. Rule numbers in comments are HMRC's business validation rules (the error
numbers the Transaction Engine returns for the same fault).
"""
from __future__ import annotations

import io
import re
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

import xmlschema

from hmrc_export.schemacheck import CompiledSchema
from hmrc_export.taxyear import ENVELOPE_NS, TaxYear

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
# IRenvelope namespace -> schema file, per tax year. Drop HMRC's published XSDs in to replace derived ones.
SCHEMA_FILES = {
    "http://www.govtalk.gov.uk/taxation/PAYE/RTI/FullPaymentSubmission/26-27/1": "2026-27/FullPaymentSubmission.xsd",
    "http://www.govtalk.gov.uk/taxation/PAYE/RTI/EmployerPaymentSummary/26-27/1": "2026-27/EmployerPaymentSummary.xsd",
    "http://www.govtalk.gov.uk/taxation/PAYE/RTI/FullPaymentSubmission/14-15/4": "2014-15/FPS.xsd",
    "http://www.govtalk.gov.uk/taxation/PAYE/RTI/EmployerPaymentSummary/14-15/1": "2014-15/EPS.xsd",
}
ENVELOPE_SCHEMA = "2026-27/envelope.xsd"

_E = f"{{{ENVELOPE_NS}}}"

FIELD_NAMES = {
    "NINO": "National Insurance number", "Ttl": "title", "Fore": "forename", "Initials": "initials",
    "Sur": "surname", "Line": "address line", "UKPostcode": "postcode", "ForeignCountry": "country",
    "BirthDate": "date of birth", "Gender": "gender", "StartDate": "start date", "StartDec": "starter declaration",
    "StudentLoan": "student loan indicator", "PostgradLoan": "postgraduate loan indicator", "PayId": "payroll id",
    "IrrEmp": "irregular payment indicator", "LeavingDate": "leaving date", "PayFreq": "pay frequency",
    "PmtDate": "payment date", "LateReason": "late reporting reason", "WeekNo": "tax week number",
    "MonthNo": "tax month number", "PeriodsCovered": "number of periods covered", "HoursWorked": "hours worked band",
    "TaxCode": "tax code", "TaxablePay": "taxable pay", "TotalTax": "tax deducted to date",
    "TaxDeductedOrRefunded": "tax deducted or refunded", "StudentLoansTD": "student loan deductions to date",
    "StudentLoanRecovered": "student loan deduction", "PostgradLoansTD": "postgraduate loan deductions to date",
    "PostgradLoanRecovered": "postgraduate loan deduction",
    "EmpeePenContribnsPaid": "pension contributions under net pay", "EmpeePenContribnsPaidYTD":
    "pension contributions under net pay to date", "EmpeePenContribnsNotPaid": "pension contributions not under net pay",
    "EmpeePenContribnsNotPaidYTD": "pension contributions not under net pay to date",
    "NIletter": "NI category letter", "GrossEarningsForNICsInPd": "earnings for NI in the period",
    "GrossEarningsForNICsYTD": "earnings for NI to date", "AtLELYTD": "earnings at the LEL to date",
    "LELtoPTYTD": "earnings from the LEL to the PT to date", "PTtoUELYTD": "earnings from the PT to the UEL to date",
    "TotalEmpNICInPd": "employer NI in the period", "TotalEmpNICYTD": "employer NI to date",
    "EmpeeContribnsInPd": "employee NI in the period", "EmpeeContribnsYTD": "employee NI to date",
    "RelatedTaxYear": "tax year", "OfficeNo": "HMRC office number", "PayeRef": "employer PAYE reference",
    "AORef": "Accounts Office reference", "PeriodEnd": "period end", "From": "first day with no payment",
    "To": "last day with no payment", "TaxMonth": "tax month", "EmpAllceInd": "Employment Allowance indicator",
    "SMPYTD": "SMP to date", "SPPYTD": "SPP to date", "SAPYTD": "SAP to date", "ShPPYTD": "ShPP to date",
    "SPBPYTD": "SPBP to date", "SNCPYTD": "SNCP to date",
}


def field_name(tag: str) -> str:
    local = tag.rsplit("}", 1)[-1]
    return FIELD_NAMES.get(local, local)


@dataclass(frozen=True)
class Problem:
    field: str
    message: str
    employee: str | None = None  # "payroll id (name)"

    def __str__(self) -> str:
        who = f"Employee {self.employee}" if self.employee else "Submission"
        return f"{who}, {self.field}: {self.message}"


class SubmissionInvalid(ValueError):
    """Raised with every problem found, one line each."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"The submission has {len(self.problems)} problem(s) to fix before sending:\n{lines}")


# ---------------------------------------------------------------------------------------------- schemas

_schemas: dict[str, xmlschema.XMLSchema10] = {}
_lock = threading.Lock()


def schema_for(namespace_or_file: str) -> xmlschema.XMLSchema10:
    """HMRC's schema for an IRenvelope namespace (or a file under schemas/), loaded once."""
    relative = SCHEMA_FILES.get(namespace_or_file, namespace_or_file)
    with _lock:
        if relative not in _schemas:
            # allow="local": never fetch anything; the envelope's XML-DSig import resolves to xmlschema's own copy.
            _schemas[relative] = xmlschema.XMLSchema10(str(SCHEMA_DIR / relative), allow="local")
        return _schemas[relative]


def _employee_label(employee: ET.Element | None, ns: str) -> str | None:
    if employee is None:
        return None
    pay_id = employee.findtext(f"{ns}Employment/{ns}PayId") or "no payroll id"
    name = employee.find(f"{ns}EmployeeDetails/{ns}Name")
    parts = [] if name is None else [e.text or "" for e in name if e.tag in (f"{ns}Fore", f"{ns}Initials", f"{ns}Sur")]
    return f"{pay_id} ({' '.join(p for p in parts if p) or 'no name'})"


def _plain(reason: str | None) -> str:
    text = (reason or "not allowed by HMRC's schema").strip()
    text = re.sub(r"\s+", " ", text)
    return text[:300]


_compiled: dict[str, CompiledSchema] = {}
LARGE_DOCUMENT = 200  # employees; larger documents are checked by the compiled schema first


def compiled_schema_for(namespace: str) -> CompiledSchema:
    schema = schema_for(namespace)
    with _lock:
        if namespace not in _compiled:
            _compiled[namespace] = CompiledSchema(schema)
        return _compiled[namespace]


def schema_problems(ir_envelope: ET.Element) -> list[Problem]:
    namespace = ir_envelope.tag[1:].split("}")[0] if ir_envelope.tag.startswith("{") else ""
    if namespace not in SCHEMA_FILES:
        return [Problem("message type", f"no schema is held for namespace {namespace or '(none)'}")]
    schema = schema_for(namespace)
    ns = f"{{{namespace}}}"
    if sum(1 for _ in ir_envelope.iterfind(f"*/{ns}Employee")) > LARGE_DOCUMENT:
        # xmlschema needs seconds per thousand employees; the compiled form answers "valid?" in one fast pass
        # and xmlschema then explains, in its own words, any document the compiled form rejects.
        if next(compiled_schema_for(namespace).iter_invalid(ir_envelope), None) is None:
            return []
    parents = {child: parent for parent in ir_envelope.iter() for child in parent}
    problems = []
    for error in schema.iter_errors(ir_envelope):
        elem = error.elem if isinstance(error.elem, ET.Element) else None
        employee = elem
        while employee is not None and employee.tag != f"{ns}Employee":
            employee = parents.get(employee)
        where = field_name(elem.tag) if elem is not None else "document"
        value = (elem.text or "").strip() if elem is not None and len(elem) == 0 else None
        reason = _plain(getattr(error, "reason", None) or str(error))
        message = (f"the value {value!r} is not accepted by HMRC's schema ({reason})" if value is not None
                   else f"does not follow HMRC's schema ({reason})")
        problems.append(Problem(where, message, _employee_label(employee, ns)))
    return problems


def envelope_problems(root: ET.Element) -> list[Problem]:
    # The envelope's Body takes any content; its contents are checked against their own schema, so the
    # envelope is checked with an empty Body (otherwise xmlschema walks every employee a second time).
    shell = ET.Element(root.tag, root.attrib)
    for child in root:
        shell.append(ET.Element(child.tag, child.attrib) if child.tag == f"{_E}Body" else child)
    return [Problem(field_name(e.elem.tag) if isinstance(e.elem, ET.Element) else "envelope",
                    f"does not follow the GovTalk envelope schema ({_plain(e.reason)})")
            for e in schema_for(ENVELOPE_SCHEMA).iter_errors(shell)]


# ---------------------------------------------------------------------------------------------- rules

# HMRC's NINO rules: no D, F, I, Q, U or V as either prefix letter, no O as the second, and the prefixes BG, GB,
# KN, NK, NT, TN and ZZ are never issued; six digits; suffix A-D (HMRC NIM39110, and the FPS NINO pattern).
_NINO = re.compile(r"(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z][0-9]{6}[A-D]")
_TAX_CODE = re.compile(r"[1-9][0-9]{0,5}[LMNPTY]|BR|0T|NT|D[0-8]|K[1-9][0-9]{0,5}")
_SCOTTISH_ONLY = re.compile(r"D[2-8]")


def nino_problem(nino: str) -> str | None:
    """Plain-English reason a NINO is wrong, or None."""
    if _NINO.fullmatch(nino):
        return None
    if not re.fullmatch(r"[A-Z]{2}[0-9]{6}[A-D]", nino):
        return f"{nino!r} is not two letters, six digits and a letter A to D"
    return f"{nino!r} has the prefix {nino[:2]}, which HMRC never issues"


def tax_code_problem(code: str, regime: str | None) -> str | None:
    if not _TAX_CODE.fullmatch(code):
        return f"{code!r} is not a tax code HMRC issues (for example 1257L, BR, D0, NT, 0T or K100)"
    if _SCOTTISH_ONLY.fullmatch(code) and regime != "S":
        return f"{code} is only used for Scottish taxpayers (give it with the S regime)"
    return None


def _money(element: ET.Element | None) -> Decimal | None:
    if element is None or element.text is None:
        return None
    try:
        return Decimal(element.text.strip())
    except InvalidOperation:
        return None


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text else None
    except ValueError:
        return None


_TO_DATE_PAIRS = (  # (this period, to date) under the same parent, or from Payment to FiguresToDate
    ("Payment/TaxablePay", "FiguresToDate/TaxablePay"),
    ("Payment/TaxDeductedOrRefunded", "FiguresToDate/TotalTax"),
    ("Payment/StudentLoanRecovered", "FiguresToDate/StudentLoansTD"),
    ("Payment/PostgradLoanRecovered", "FiguresToDate/PostgradLoansTD"),
    ("Payment/EmpeePenContribnsPaid", "FiguresToDate/EmpeePenContribnsPaidYTD"),
    ("Payment/EmpeePenContribnsNotPaid", "FiguresToDate/EmpeePenContribnsNotPaidYTD"),
)
_NI_PAIRS = (("GrossEarningsForNICsInPd", "GrossEarningsForNICsYTD"), ("TotalEmpNICInPd", "TotalEmpNICYTD"),
             ("EmpeeContribnsInPd", "EmpeeContribnsYTD"))
_WEEKLY = {"W1", "W2", "W4"}
_FREEPORT_OR_ZONE = set("FILSNEDK")


def fps_rule_problems(ir: ET.Element, today: date) -> list[Problem]:
    ns = ir.tag.split("}")[0] + "}"
    problems: list[Problem] = []
    fps = ir.find(f"{ns}FullPaymentSubmission")
    if fps is None:
        return [Problem("document", "there is no FullPaymentSubmission element")]
    problems += _header_rules(ir, fps, ns, "FullPaymentSubmission")
    year = _year(fps, ns)
    for employee in fps.findall(f"{ns}Employee"):
        label = _employee_label(employee, ns)
        add = lambda field, message: problems.append(Problem(field, message, label))  # noqa: E731
        details = employee.find(f"{ns}EmployeeDetails")
        nino = details.findtext(f"{ns}NINO") if details is not None else None
        if nino:
            reason = nino_problem(nino.strip())
            if reason:
                add("National Insurance number", reason)
        lines = details.findall(f"{ns}Address/{ns}Line") if details is not None else []
        if not nino and len(lines) < 2:  # rule 7823
            add("address", "without a National Insurance number HMRC needs at least two address lines")
        if details is not None and details.find(f"{ns}Name/{ns}Fore") is None and details.find(f"{ns}Name/{ns}Initials") is None:
            add("forename", "a forename or initials are required")  # rule 7824
        birth = _date(details.findtext(f"{ns}BirthDate")) if details is not None else None
        if birth is None:
            add("date of birth", "the date of birth is required")  # rule 7907
        elif birth > today:
            add("date of birth", f"{birth.isoformat()} is in the future")  # rule 5001
        for employment in employee.findall(f"{ns}Employment"):
            problems += _employment_rules(employment, ns, label, year, today, len(lines), details)
    final = fps.find(f"{ns}FinalSubmission")
    if final is not None and final.find(f"{ns}BecauseSchemeCeased") is not None and final.find(f"{ns}DateSchemeCeased") is None:
        problems.append(Problem("date scheme ceased", "give the date the PAYE scheme ceased"))  # rule 7875
    return problems


def _employment_rules(employment: ET.Element, ns: str, label: str | None, year: TaxYear | None, today: date,
                      address_lines: int, details: ET.Element | None) -> list[Problem]:
    problems: list[Problem] = []
    add = lambda field, message: problems.append(Problem(field, message, label))  # noqa: E731
    payment = employment.find(f"{ns}Payment")
    pay_date = _date(payment.findtext(f"{ns}PmtDate")) if payment is not None else None
    if pay_date and year and pay_date not in year:
        add("payment date", f"{pay_date.isoformat()} is outside the tax year {year.label} "
            f"({year.first_day.isoformat()} to {year.last_day.isoformat()})")
    if payment is not None:
        freq = payment.findtext(f"{ns}PayFreq")
        if freq in _WEEKLY and payment.find(f"{ns}MonthNo") is not None:
            add("tax month number", f"a {freq} payroll reports the tax week number, not the tax month")
        if freq and freq not in _WEEKLY and freq not in {"IO", "IR"} and payment.find(f"{ns}WeekNo") is not None:
            add("tax week number", f"a {freq} payroll reports the tax month number, not the tax week")
        code = payment.find(f"{ns}TaxCode")
        if code is not None and code.text:
            reason = tax_code_problem(code.text.strip(), code.get("TaxRegime"))
            if reason:
                add("tax code", reason)
        if payment.find(f"{ns}PmtAfterLeaving") is not None and employment.find(f"{ns}LeavingDate") is None:
            add("leaving date", "a payment after leaving needs the leaving date")  # rule 7847
    starter = employment.find(f"{ns}Starter")
    start = _date(starter.findtext(f"{ns}StartDate")) if starter is not None else None
    if starter is not None:
        if start is None:
            add("start date", "starter details need the start date")
        elif starter.find(f"{ns}StartDec") is None and starter.find(f"{ns}OccPension") is None \
                and starter.find(f"{ns}Seconded") is None:
            add("starter declaration", "a new starter needs starter declaration A, B or C")  # rule 7881
        if start and start > today + timedelta(days=30):
            add("start date", f"{start.isoformat()} is more than 30 days from today")  # rule 7828
        if start and address_lines < 2:
            add("address", "a new starter needs at least two address lines")  # rule 7829
    leaving = _date(employment.findtext(f"{ns}LeavingDate"))
    if leaving:
        if leaving > today + timedelta(days=30):
            add("leaving date", f"{leaving.isoformat()} is more than 30 days from today")  # rule 7831
        if start and leaving < start:
            add("leaving date", f"{leaving.isoformat()} is before the start date {start.isoformat()}")
    groups = {tag: ({} if group is None else {child.tag.rsplit("}", 1)[-1]: child for child in group})
              for tag, group in (("Payment", payment), ("FiguresToDate", employment.find(f"{ns}FiguresToDate")))}
    for period_path, to_date_path in _TO_DATE_PAIRS:
        (pg, pt), (tg, tt) = period_path.split("/"), to_date_path.split("/")
        period, to_date = _money(groups[pg].get(pt)), _money(groups[tg].get(tt))
        if period is not None and to_date is not None and period > 0 and to_date < period:
            add(field_name(to_date_path.split("/")[-1]),
                f"the year-to-date figure {to_date:.2f} is less than this period's {period:.2f}")
    letters: set[str] = set()
    gender = details.findtext(f"{ns}Gender") if details is not None else None
    birth = _date(details.findtext(f"{ns}BirthDate")) if details is not None else None
    for ni in employment.findall(f"{ns}NIlettersAndValues"):
        letter = (ni.findtext(f"{ns}NIletter") or "").strip()
        if letter in letters:
            add("NI category letter", f"letter {letter} appears twice; each letter once per employment")  # rule 7850
        letters.add(letter)
        for period_tag, to_date_tag in _NI_PAIRS:
            period, to_date = _money(ni.find(ns + period_tag)), _money(ni.find(ns + to_date_tag))
            if period is not None and to_date is not None and period > 0 and to_date < period:
                add(field_name(to_date_tag), f"letter {letter}: the year-to-date figure {to_date:.2f} is less than "
                    f"this period's {period:.2f}")
        if letter == "X":  # rules 7852-7854, 7863-7866
            for tag in ("AtLELYTD", "LELtoPTYTD", "PTtoUELYTD", "TotalEmpNICInPd", "TotalEmpNICYTD",
                        "EmpeeContribnsInPd", "EmpeeContribnsYTD"):
                if (_money(ni.find(ns + tag)) or 0) != 0:
                    add(field_name(tag), "must be 0.00 for NI category letter X")
        elif letter in {"C", "K", "S", "W"}:
            for tag in ("EmpeeContribnsInPd", "EmpeeContribnsYTD"):
                if (_money(ni.find(ns + tag)) or 0) != 0:
                    add(field_name(tag), f"must be 0.00 for NI category letter {letter}")
        if letter in {"B", "E", "I", "T"}:  # rules 7849 and 7955: reduced rate for married women born before 1961
            if gender == "M" or (birth and birth > date(1961, 4, 5)):
                add("NI category letter", f"letter {letter} is only for women born on or before 5 April 1961")
        # Freeport letters date from 2022-23; before 2016-17 D, E, L and N were contracted-out letters.
        if letter in _FREEPORT_OR_ZONE and year and year.start_year >= 2022 \
                and employment.find(f"{ns}EmployeeWorkplacePostcode") is None:
            add("NI category letter", f"letter {letter} needs the employee's workplace postcode")  # rule 7954
    return problems


def _year(body: ET.Element, ns: str) -> TaxYear | None:
    text = body.findtext(f"{ns}RelatedTaxYear")
    try:
        return TaxYear.parse(text) if text else None
    except ValueError:
        return None


def _header_rules(ir: ET.Element, body: ET.Element, ns: str, kind: str) -> list[Problem]:
    problems = []
    year = _year(body, ns)
    namespace_year = re.search(r"/(\d\d-\d\d)/", ns)
    if year and namespace_year and namespace_year.group(1) != year.short:  # rule 7889
        problems.append(Problem("tax year", f"the document says {year.short} but uses the {namespace_year.group(1)} "
                                f"schema namespace"))
    period_end = _date(ir.findtext(f"{ns}IRheader/{ns}PeriodEnd"))
    if year and period_end and period_end not in year:  # rule 7844
        problems.append(Problem("period end", f"{period_end.isoformat()} is not in the tax year {year.label}"))
    keys = {k.get("Type"): (k.text or "").strip() for k in ir.findall(f"{ns}IRheader/{ns}Keys/{ns}Key")}
    office, ref = body.findtext(f"{ns}EmpRefs/{ns}OfficeNo"), body.findtext(f"{ns}EmpRefs/{ns}PayeRef")
    if office and keys.get("TaxOfficeNumber") != office:  # rule 7821
        problems.append(Problem("HMRC office number", "the IRheader key differs from the employer references"))
    if ref and keys.get("TaxOfficeReference") != ref:  # rule 7822
        problems.append(Problem("employer PAYE reference", "the IRheader key differs from the employer references"))
    return problems


def eps_rule_problems(ir: ET.Element, today: date) -> list[Problem]:
    ns = ir.tag.split("}")[0] + "}"
    eps = ir.find(f"{ns}EmployerPaymentSummary")
    if eps is None:
        return [Problem("document", "there is no EmployerPaymentSummary element")]
    problems = _header_rules(ir, eps, ns, "EmployerPaymentSummary")
    year = _year(eps, ns)
    first, last = _date(eps.findtext(f"{ns}NoPaymentDates/{ns}From")), _date(eps.findtext(f"{ns}NoPaymentDates/{ns}To"))
    if first and last:
        if first > last:
            problems.append(Problem("first day with no payment", f"{first.isoformat()} is after {last.isoformat()}"))
        if year and (first not in year or last not in year):
            problems.append(Problem("first day with no payment", f"the period is not inside the tax year {year.label}"))
    return problems


# ---------------------------------------------------------------------------------------------- entry points

def _as_tree(message: bytes | ET.Element) -> ET.Element:
    if isinstance(message, ET.Element):
        return message
    try:
        return ET.parse(io.BytesIO(message)).getroot()
    except ET.ParseError as exc:
        raise SubmissionInvalid([Problem("document", f"not well-formed XML: {exc}")]) from exc


def find_problems(message: bytes | ET.Element, *, today: date | None = None) -> list[Problem]:
    """Every problem in a GovTalk RTI message (or a bare IRenvelope): schema first, then business rules."""
    root = _as_tree(message)
    today = today or date.today()
    problems: list[Problem] = []
    if root.tag == f"{_E}GovTalkMessage":
        problems += envelope_problems(root)
        body = root.find(f"{_E}Body")
        if body is None or len(body) == 0:
            return problems + [Problem("Body", "the message has no body")]
        ir = body[0]
    else:
        ir = root
    schema = schema_problems(ir)
    rules: list[Problem] = []
    kind = ir[1].tag.rsplit("}", 1)[-1] if len(ir) > 1 else ""
    if kind == "FullPaymentSubmission":
        rules = fps_rule_problems(ir, today)
    elif kind == "EmployerPaymentSummary":
        rules = eps_rule_problems(ir, today)
    # Where a rule already explains a field in plain words, the schema's wording for it adds nothing.
    explained = {(p.employee, p.field) for p in rules}
    return problems + [p for p in schema if (p.employee, p.field) not in explained] + rules


def check(message: bytes | ET.Element, *, today: date | None = None) -> None:
    """Raise SubmissionInvalid listing every problem, or return quietly."""
    problems = find_problems(message, today=today)
    if problems:
        raise SubmissionInvalid(problems)
