"""`wallet hmrc irmark|validate|submit|resume` working from files."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from click.testing import CliRunner

from hmrc_export.fps import build_fps
from tests.support.fake_hmrc_gateway import FakeHMRCGateway
from tests.unit.hmrc.sample_run import EMPLOYER, four_weekly_run
from wallet.commands.hmrc_cmds import hmrc

SAMPLE = Path(__file__).resolve().parents[3].parent / "shared" / "testdata" / "hmrc" / "rti-samples" / "FPS-2014-15.xml"


def test_irmark_of_hmrcs_sample():
    result = CliRunner().invoke(hmrc, ["irmark", str(SAMPLE)])
    assert result.exit_code == 0, result.output
    assert "dLgmXy13cUXXhHccgSsVjWLVN1k=" in result.output and "OS4CMXZNO5YULV4EO4OICKYVRVRNKN2Z" in result.output
    assert "correct" in result.output


def test_irmark_wrong_then_written(tmp_path):
    path = tmp_path / "fps.xml"
    path.write_bytes(SAMPLE.read_bytes().replace(b"<TaxablePay>815.00", b"<TaxablePay>816.00"))
    assert CliRunner().invoke(hmrc, ["irmark", str(path)]).exit_code == 1
    assert CliRunner().invoke(hmrc, ["irmark", "--write", str(path)]).exit_code == 0
    assert CliRunner().invoke(hmrc, ["irmark", str(path)]).exit_code == 0


def test_validate_reports_problems_by_employee(tmp_path):
    path = tmp_path / "fps.xml"
    message = build_fps(EMPLOYER, four_weekly_run(), timestamp=datetime(2026, 5, 28, tzinfo=timezone.utc))
    path.write_bytes(message)
    ok = CliRunner().invoke(hmrc, ["validate", "--today", "2026-05-28", str(path)])
    assert ok.exit_code == 0 and "no problems" in ok.output
    path.write_bytes(message.replace(b"<NINO>AB123456C</NINO>", b"<NINO>QQ123456C</NINO>"))
    bad = CliRunner().invoke(hmrc, ["validate", "--today", "2026-05-28", str(path)])
    assert bad.exit_code == 1
    assert "Employee PA-001 (Amira Khan), National Insurance number:" in bad.output


def test_submit_and_resume_from_environment_configuration(tmp_path, monkeypatch):
    path = tmp_path / "fps.xml"
    path.write_bytes(build_fps(EMPLOYER, four_weekly_run(), timestamp=datetime.now(timezone.utc)))
    with FakeHMRCGateway(poll_interval=0, polls_before_answer=0) as fake:
        monkeypatch.setenv("HMRC_GATEWAY_URL", fake.submission_url)
        monkeypatch.setenv("HMRC_SENDER_ID", fake.sender_id)
        monkeypatch.setenv("HMRC_PASSWORD", fake.password)
        result = CliRunner().invoke(hmrc, ["submit", "--store", str(tmp_path / "store"), str(path)])
        assert result.exit_code == 0, result.output
        assert ": accepted (correlation id " in result.output
        assert fake.password not in result.output
        again = CliRunner().invoke(hmrc, ["resume", "--store", str(tmp_path / "store")])
        assert again.exit_code == 0 and again.output == ""
        assert fake.count("request") == 1
