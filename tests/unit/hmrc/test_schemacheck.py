"""The compiled schema agrees with xmlschema: on valid documents and on every single-element mutation of them."""
from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from hmrc_export.fps import build_fps
from hmrc_export.model import EmployeePayment
from hmrc_export.validate import LARGE_DOCUMENT, compiled_schema_for, find_problems, schema_for
from tests.unit.hmrc.sample_run import EMPLOYER, four_weekly_run

ENV = "{http://www.govtalk.gov.uk/CM/envelope}"
SAMPLES = Path(__file__).resolve().parents[3].parent / "shared" / "testdata" / "hmrc" / "rti-samples"
WHEN = datetime(2026, 5, 28, tzinfo=timezone.utc)


def _ir(message: bytes) -> ET.Element:
    return ET.fromstring(message).find(f"{ENV}Body")[0]


def _mutations(ir: ET.Element):
    """Each element removed, duplicated, given a nonsense value, and given a stray attribute."""
    count = sum(1 for _ in ir.iter())
    for index in range(1, count):
        for kind in ("remove", "duplicate", "value", "attribute"):
            doc = copy.deepcopy(ir)
            parents = {child: parent for parent in doc.iter() for child in parent}
            target = list(doc.iter())[index]
            parent = parents[target]
            if kind == "remove":
                parent.remove(target)
            elif kind == "duplicate":
                parent.insert(list(parent).index(target), copy.deepcopy(target))
            elif kind == "value":
                if len(target):
                    continue
                target.text = "-1.5x" if (target.text or "").strip() else "??"
            else:
                target.set("Stray", "1")
            yield f"{kind} {target.tag.split('}')[1]} #{index}", doc


@pytest.mark.parametrize("source", ["built-2026-27", "hmrc-fps-2014-15", "hmrc-eps-2014-15"])
def test_compiled_schema_agrees_with_xmlschema_on_every_mutation(source):
    if source == "built-2026-27":
        ir = _ir(build_fps(EMPLOYER, four_weekly_run()[4:], timestamp=WHEN))
    else:
        ir = _ir((SAMPLES / ("FPS-2014-15.xml" if "fps" in source else "EPS-2014-15.xml")).read_bytes())
    namespace = ir.tag[1:].split("}")[0]
    schema, compiled = schema_for(namespace), compiled_schema_for(namespace)
    assert list(compiled.iter_invalid(ir)) == [] and schema.is_valid(ir)
    disagreements, rejected = [], 0
    for label, doc in _mutations(ir):
        by_xmlschema = not schema.is_valid(doc)
        by_compiled = next(compiled.iter_invalid(doc), None) is not None
        rejected += by_xmlschema
        if by_xmlschema != by_compiled:
            disagreements.append(f"{label}: xmlschema {'rejects' if by_xmlschema else 'accepts'}")
    assert disagreements == []
    assert rejected > 50  # the mutations do break documents


def test_large_documents_use_the_compiled_schema_and_explain_problems_with_xmlschema():
    base = four_weekly_run()[2]
    run = [EmployeePayment(base.employee.__class__(**{**base.employee.__dict__, "payroll_id": f"PA-{i:04d}"}),
                           base.payment) for i in range(LARGE_DOCUMENT + 1)]
    message = build_fps(EMPLOYER, run, timestamp=WHEN)
    assert find_problems(message, today=date(2026, 5, 28)) == []
    broken = message.replace(b"<HoursWorked>B</HoursWorked>", b"<HoursWorked>Q</HoursWorked>", 1)
    [problem] = find_problems(broken, today=date(2026, 5, 28))
    assert (problem.employee, problem.field) == ("PA-0000 (Catriona Macleod)", "hours worked band")
    assert "'Q' is not accepted by HMRC's schema" in problem.message
