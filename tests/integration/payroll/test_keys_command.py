"""`wallet keys new | rotate | check | retire`: a new key goes first, every stored secret (NI numbers, bank
details, two-factor secrets) is re-sealed under it, and the old key can then go without losing anything."""
from __future__ import annotations

import pyotp
import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet

from payroll.sealed import FieldCipher, SealedFieldError
from payroll.service import PayrollService
from tests.integration.payroll.conftest import ACCOUNT, NINO
from wallet import config
from wallet.cli import cli
from wallet.web.auth.credentials import Credentials

TOTP_SECRET = pyotp.random_base32()


@pytest.fixture
def key_file(monkeypatch, tmp_path, key):
    """The embedded default: keys in instance/encryption.key, holding the key the test data was sealed with."""
    monkeypatch.delenv("WALLET_ENCRYPTION_KEYS", raising=False)
    monkeypatch.setattr(config, "DEFAULT_INSTANCE", tmp_path / "instance")
    path = config.key_file()
    path.write_bytes(key + b"\n")
    return path


@pytest.fixture
def sealed_data(setup, engine, cipher):
    pa = setup.pa()
    people = Credentials(engine, cipher)
    people.create("u-1", "holder@example.org", "a long enough password 1", two_factor_required=True)
    people.provision_code("u-1", TOTP_SECRET)
    return pa


def keys(database_url, *args):
    return CliRunner().invoke(cli, ["--database-url", database_url, "keys", *args])


def test_rotation_end_to_end_through_the_command(database_url, engine, key, key_file, sealed_data,
                                                 payroll_clock):
    assert keys(database_url, "check").exit_code == 0          # one key: everything is under the newest

    made = keys(database_url, "new")
    assert made.exit_code == 0, made.output
    newer, older = config.encryption_keys()
    assert older == key and newer != key
    waiting = keys(database_url, "check")
    assert waiting.exit_code == 1 and "3 stored secrets still need an older key" in waiting.output
    refused = keys(database_url, "retire")
    assert refused.exit_code == 2 and "run `wallet keys rotate` first" in refused.output
    assert config.encryption_keys() == [newer, older]           # nothing retired

    rotated = keys(database_url, "rotate")
    assert rotated.exit_code == 0, rotated.output
    assert "1 PAs' NI numbers and bank details, 1 two-factor secrets" in rotated.output
    assert "OK: every stored secret opens with the newest key" in rotated.output
    retired = keys(database_url, "retire")
    assert retired.exit_code == 0, retired.output
    assert config.encryption_keys() == [newer]

    # With the new key alone everything still opens; the old key alone opens nothing.
    only_new = FieldCipher([newer])
    pa = PayrollService(engine, only_new, clock=payroll_clock).get_employee(sealed_data.id)
    assert pa.nino == NINO and pa.bank_details.account_number == ACCOUNT
    assert Credentials(engine, only_new).sealed_with_older_keys() == 0
    with pytest.raises(SealedFieldError):
        PayrollService(engine, FieldCipher([key]), clock=payroll_clock).get_employee(sealed_data.id)


def test_a_second_factor_still_works_after_rotation(database_url, engine, key_file, sealed_data):
    keys(database_url, "new")
    assert keys(database_url, "rotate").exit_code == 0
    keys(database_url, "retire")
    people = Credentials(engine, FieldCipher(config.encryption_keys()))
    checked = people.check_password("holder@example.org", "a long enough password 1")
    assert checked.needs_code
    people.check_code("u-1", pyotp.TOTP(TOTP_SECRET).now())


def test_keys_from_the_environment_are_printed_not_written(database_url, monkeypatch, key_file, key, setup):
    monkeypatch.setenv("WALLET_ENCRYPTION_KEYS", key.decode())
    made = keys(database_url, "new")
    assert made.exit_code == 0
    Fernet(made.stdout.strip().encode())                       # a usable key on standard output
    assert "Put this key first in WALLET_ENCRYPTION_KEYS" in made.stderr
    assert key_file.read_bytes() == key + b"\n"                # the file is not the source: left alone
    refused = keys(database_url, "retire")
    assert refused.exit_code == 2 and "remove every key but the first" in refused.output
