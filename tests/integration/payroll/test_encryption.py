"""NI numbers and bank details are sealed at rest: the raw columns never hold them, a wrong key fails plainly,
and keys can be rotated."""
from __future__ import annotations

import os
import stat

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from payroll.model import BankDetails
from payroll.sealed import FieldCipher, SealedFieldError
from payroll.service import Duplicate, PayrollService
from tests.integration.payroll.conftest import ACCOUNT, NINO, SORT_CODE
from wallet import config


def raw_employee_rows(engine) -> str:
    with engine.connect() as conn:
        return "\n".join(" ".join(str(v) for v in row) for row in conn.execute(text("SELECT * FROM payroll_employee")))


def test_raw_columns_hold_neither_ni_number_nor_bank_details(setup, engine, cipher):
    pa = setup.pa()
    raw = raw_employee_rows(engine)
    for secret in (NINO, ACCOUNT, SORT_CODE, NINO.lower(), "123456"):
        assert secret not in raw
    with engine.connect() as conn:
        sealed_nino, sealed_bank, fingerprint = conn.execute(
            text("SELECT nino_sealed, bank_sealed, nino_fingerprint FROM payroll_employee")).one()
    assert cipher.open(sealed_nino) == NINO
    assert ACCOUNT in cipher.open(sealed_bank)
    assert fingerprint == cipher.fingerprint(NINO) and len(fingerprint) == 64
    # Read back through the service they are whole; shown, they are masked.
    read = setup.service.get_employee(pa.id)
    assert read.nino == NINO and read.bank_details == BankDetails("S Jones", SORT_CODE, ACCOUNT)
    assert read.bank_details.masked == "**-**-16 ****4567"
    assert ACCOUNT not in repr(read.bank_details) and ACCOUNT not in repr(read)


def test_a_wrong_key_fails_clearly(setup, engine, payroll_clock):
    pa = setup.pa()
    stranger = PayrollService(engine, FieldCipher([Fernet.generate_key()]), clock=payroll_clock)
    with pytest.raises(SealedFieldError, match="cannot be opened with the configured encryption keys"):
        stranger.get_employee(pa.id)
    # Nothing that needs no sealed field is affected.
    assert stranger.get_employer(setup.employer.id).name == "Asha Patel"


def test_keys_rotate(setup, engine, key, payroll_clock):
    pa = setup.pa()
    newer = Fernet.generate_key()
    both = PayrollService(engine, FieldCipher([newer, key]), clock=payroll_clock)
    assert both.get_employee(pa.id).nino == NINO          # old tokens open with the old key still listed
    # A duplicate NI number is found across the rotation (fingerprints under every key are looked up).
    with pytest.raises(Duplicate, match="already employs someone with that NI number"):
        both.add_employee(setup.employer.id, payroll_id="PA9", forenames=["X"], surname="Y",
                          birth_date=pa.birth_date, start_date=pa.start_date, frequency="monthly",
                          tax_code="1257L", nino="ab 12 34 56 c", actor="admin")
    assert both.rotate_encryption(actor="admin") == 1
    only_new = PayrollService(engine, FieldCipher([newer]), clock=payroll_clock)
    read = only_new.get_employee(pa.id)
    assert read.nino == NINO and read.bank_details.account_number == ACCOUNT
    old_only = PayrollService(engine, FieldCipher([key]), clock=payroll_clock)
    with pytest.raises(SealedFieldError):
        old_only.get_employee(pa.id)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT nino_fingerprint FROM payroll_employee")).scalar_one() \
            == FieldCipher([newer]).fingerprint(NINO)


def test_field_cipher_refuses_bad_keys_and_tampering():
    with pytest.raises(SealedFieldError, match="no encryption key configured"):
        FieldCipher([])
    with pytest.raises(SealedFieldError, match="key number 2 is not a Fernet key") as caught:
        FieldCipher([Fernet.generate_key(), b"not-a-key"])
    assert "not-a-key" not in str(caught.value)
    with pytest.raises(SealedFieldError, match="list of keys"):
        FieldCipher(Fernet.generate_key())
    cipher = FieldCipher([Fernet.generate_key()])
    token = cipher.seal("AB123456C")
    assert token != "AB123456C" and cipher.open(token) == "AB123456C"
    assert cipher.seal("AB123456C") != token                  # a fresh IV each time
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    with pytest.raises(SealedFieldError, match="altered"):
        cipher.open(tampered)
    assert "key" in repr(cipher) and str(Fernet.generate_key()) not in repr(cipher)


def test_encryption_keys_from_the_environment(monkeypatch):
    first, second = Fernet.generate_key(), Fernet.generate_key()
    monkeypatch.setenv("WALLET_ENCRYPTION_KEYS", f"{first.decode()}, {second.decode()}")
    assert config.encryption_keys() == [first, second]
    monkeypatch.setenv("WALLET_ENCRYPTION_KEYS", " , ")
    with pytest.raises(ValueError, match="holds no key"):
        config.encryption_keys()


def test_embedded_default_key_file_is_private_and_reused(monkeypatch, tmp_path):
    monkeypatch.delenv("WALLET_ENCRYPTION_KEYS", raising=False)
    monkeypatch.setattr(config, "DEFAULT_INSTANCE", tmp_path / "instance")
    keys = config.encryption_keys()
    path = tmp_path / "instance" / "encryption.key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert len(keys) == 1 and FieldCipher(keys).open(FieldCipher(keys).seal("x")) == "x"
    assert config.encryption_keys() == keys
    assert [p.name for p in path.parent.iterdir()] == ["encryption.key"]   # no temporary file left behind
