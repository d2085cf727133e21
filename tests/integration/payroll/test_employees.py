"""Employers, PAs and contracts: checked at the boundary, with plain-English refusals."""
from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from payroll.model import BankDetails, EmployerKind, PayRates, PensionStatus, PreviousEmployment
from payroll.service import Duplicate, InvalidInput, NotFound, WrongStatus, normalise_nino
from tests.integration.payroll.conftest import ACCOUNT, NINO


def add(setup, **changes):
    values = dict(payroll_id="X1", forenames=["Ann"], surname="Bell", birth_date=date(1990, 1, 1),
                  start_date=date(2026, 4, 6), frequency="monthly", tax_code="1257L", actor="admin")
    values.update(changes)
    return setup.service.add_employee(setup.employer.id, **values)


def test_employee_input_is_checked_all_at_once(setup):
    with pytest.raises(InvalidInput) as caught:
        add(setup, nino="QQ123456C", tax_code="1257Q", ni_letter="W", student_loan_plans=["3"],
            bank_details=BankDetails("Ann Bell", "12-34-5", "1234567"), frequency="daily",
            birth_date=date(2020, 1, 1), starter_declaration="D")
    text = str(caught.value)
    for expected in ("not a valid National Insurance number", "is not a tax code", "NI category letter must be",
                     "student loan plan must be one of", "sort code must be six digits",
                     "account number must be eight digits", "pay frequency must be one of", "no one under 13",
                     "starter declaration"):
        assert expected in text
    assert "QQ123456C" not in text and "1234567" not in text   # numbers people typed are not repeated back
    assert setup.service.list_employees(setup.employer.id) == []


def test_values_are_normalised(setup):
    pa = add(setup, nino="ab 12 34 56 c", tax_code="s1257l m1", ni_letter="m", student_loan_plans=["plan 2", "pgl"],
             bank_details=BankDetails(" Ann Bell ", "40-27-16", "7123 4567"),
             previous_employment=PreviousEmployment(500_000, 80_000))
    assert (pa.nino, pa.tax_code, pa.non_cumulative, pa.ni_letter) == (NINO, "S1257L", True, "M")
    assert pa.student_loan_plans == ("2", "PGL")
    assert pa.bank_details == BankDetails("Ann Bell", "402716", ACCOUNT)
    assert setup.service.get_employee(pa.id) == pa
    assert normalise_nino(" AB123456 C ") == NINO


def test_duplicates_are_refused(setup):
    add(setup, nino=NINO)
    with pytest.raises(Duplicate, match="payroll id 'X1'"):
        add(setup, nino=None)
    with pytest.raises(Duplicate, match="already employs someone with that NI number"):
        add(setup, payroll_id="X2", nino="AB 123456 C")
    with pytest.raises(Duplicate, match="PAYE reference 120/A120 is already used"):
        setup.service.add_employer(name="Other", kind="third_party", hmrc_office_number="120",
                                   paye_reference="a120", accounts_office_reference="120PA00099999",
                                   actor="admin")


def test_employer_is_checked_and_updated(setup, service):
    with pytest.raises(InvalidInput) as caught:
        service.add_employer(name="", kind="family", hmrc_office_number="12", paye_reference="A/1",
                             accounts_office_reference="123", actor="admin")
    assert len(caught.value.problems) == 5
    updated = service.update_employer(setup.employer.id, name="Asha P.", claims_employment_allowance=False,
                                      actor="admin")
    assert updated == replace(setup.employer, name="Asha P.", claims_employment_allowance=False)
    assert service.get_employer(setup.employer.id) == updated
    assert service.list_employers() == [updated]
    with pytest.raises(InvalidInput, match="has no colour"):
        service.update_employer(setup.employer.id, colour="red", actor="admin")
    with pytest.raises(NotFound):
        service.get_employer("nope")
    assert setup.employer.kind is EmployerKind.BUDGET_HOLDER


def test_contracts_never_overlap(setup, service):
    pa = add(setup)
    first = service.add_contract(pa.id, starts=date(2026, 4, 6), rates=PayRates(standard=1300), actor="admin")
    with pytest.raises(Duplicate, match=f"already has contract {first.id} from 2026-04-06 with no end date"):
        service.add_contract(pa.id, starts=date(2026, 9, 1), rates=PayRates(standard=1400), actor="admin")
    service.end_contract(first.id, date(2026, 8, 31), actor="admin")
    second = service.add_contract(pa.id, starts=date(2026, 9, 1), rates=PayRates(standard=1400, sleep_in_flat=9000),
                                  pension_employee_rate="0.04", qualifying_days=[0, 2, 4], actor="admin")
    assert [c.id for c in service.list_contracts(pa.id)] == [first.id, second.id]
    stored = service.list_contracts(pa.id)[1]
    assert stored == second and stored.qualifying_days == (0, 2, 4)
    with pytest.raises(InvalidInput, match="must be more than zero"):
        service.add_contract(pa.id, starts=date(2027, 1, 1), rates=PayRates(standard=0), actor="admin")
    with pytest.raises(InvalidInput, match="fraction from 0 to 1"):
        service.add_contract(pa.id, starts=date(2027, 1, 1), rates=PayRates(standard=1), pension_employee_rate="5",
                             actor="admin")
    with pytest.raises(InvalidInput, match="before Ann Bell started"):
        service.add_contract(pa.id, starts=date(2026, 1, 1), ends=date(2026, 2, 1), rates=PayRates(standard=1),
                             actor="admin")


def test_pension_moves(setup, service):
    pa = add(setup)
    with pytest.raises(WrongStatus, match="only from enrolled, opted_in can it become opted_out"):
        service.opt_out_pension(pa.id, actor="admin")
    assert service.enrol_pension(pa.id, actor="admin", effective=date(2026, 4, 6)).pension_status \
        is PensionStatus.ENROLLED
    later = date(2026, 5, 1)
    assert service.opt_out_pension(pa.id, actor="ann", effective=later).pension_status is PensionStatus.OPTED_OUT
    assert service.opt_in_pension(pa.id, actor="ann", effective=later).pension_status is PensionStatus.OPTED_IN
    with pytest.raises(WrongStatus):
        service.postpone_pension(pa.id, date(2026, 6, 1), actor="admin", effective=date(2026, 4, 6))
    assert [s for s, _, _ in service.pension_history(pa.id)] == [
        PensionStatus.ENROLLED, PensionStatus.OPTED_OUT, PensionStatus.OPTED_IN]
    other = add(setup, payroll_id="X2")
    with pytest.raises(InvalidInput, match="within three months"):
        service.postpone_pension(other.id, date(2026, 12, 1), actor="admin", effective=date(2026, 4, 6))
    postponed = service.postpone_pension(other.id, date(2026, 7, 1), actor="admin", effective=date(2026, 4, 6))
    assert postponed.pension_status is PensionStatus.POSTPONED and postponed.pension_postponed_until == date(2026, 7, 1)
    assert service.get_employee(other.id).pension_postponed_until == date(2026, 7, 1)


def test_tax_code_changes_apply_from_their_date(setup, service):
    pa = add(setup)
    service.update_tax_code(pa.id, "K475 W1", effective_from=date(2026, 7, 1), actor="admin")
    assert service.get_employee(pa.id, as_of=date(2026, 6, 30)).tax_code == "1257L"
    later = service.get_employee(pa.id, as_of=date(2026, 7, 1))
    assert (later.tax_code, later.non_cumulative) == ("K475", True)
    with pytest.raises(InvalidInput, match="is not a tax code"):
        service.update_tax_code(pa.id, "12345678L", effective_from=date(2026, 8, 1), actor="admin")
    with pytest.raises(InvalidInput, match="before Ann Bell started"):
        service.update_tax_code(pa.id, "BR", effective_from=date(2026, 1, 1), actor="admin")
