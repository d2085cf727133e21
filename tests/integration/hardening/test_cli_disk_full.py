"""A `wallet` command that cannot write for want of disk space says so in plain words and exits 1, instead of
a Python traceback. The limit is real: the child process's file-size limit (RLIMIT_FSIZE) makes the kernel
refuse the write (EFBIG), as a full disk would (ENOSPC)."""
from __future__ import annotations

import json
import resource
import signal
import subprocess
import sys
from pathlib import Path

WALLET = Path(sys.executable).with_name("wallet")
REQUEST = {"id": "1", "tax_year": "2026-27", "frequency": "monthly", "period": 1, "tax_code": "1257L",
           "gross_pay": "2500.00"}


def _little_room() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)     # the write then fails with EFBIG instead of killing
    resource.setrlimit(resource.RLIMIT_FSIZE, (16, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))


def test_a_full_disk_is_reported_in_words_not_a_traceback(tmp_path):
    out = tmp_path / "results.jsonl"
    done = subprocess.run([str(WALLET), "payroll", "calc", "--output", str(out)], input=json.dumps(REQUEST) + "\n",
                          capture_output=True, text=True, preexec_fn=_little_room, timeout=120)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "no room on the disk to write" in done.stderr and "run the command again" in done.stderr

    again = subprocess.run([str(WALLET), "payroll", "calc", "--output", str(out)], input=json.dumps(REQUEST) + "\n",
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert json.loads(out.read_text())["id"] == "1"
