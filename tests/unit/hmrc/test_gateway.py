"""The Transaction Engine client against a local fake speaking the Document Submission Protocol."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

import pytest

from hmrc_export.fps import build_fps
from hmrc_export.gateway import (FileStore, GatewayClient, GatewayConfig, GatewayError, MemoryStore, State,
                                 parse_reply)
from tests.support.fake_hmrc_gateway import FakeHMRCGateway
from tests.unit.hmrc.sample_run import EMPLOYER, four_weekly_run

WHEN = datetime(2026, 5, 28, tzinfo=timezone.utc)


@pytest.fixture
def fake():
    with FakeHMRCGateway() as gateway:
        yield gateway


@pytest.fixture
def message():
    return build_fps(EMPLOYER, four_weekly_run(), timestamp=WHEN)


def _client(fake, store=None, **config):
    waits: list[float] = []
    config = GatewayConfig(fake.submission_url, fake.sender_id, fake.password, **config)
    return GatewayClient(config, store or MemoryStore(), sleep=waits.append), waits


def test_submit_is_acknowledged_polled_accepted_and_deleted(fake, message):
    fake.polls_before_answer = 2
    client, waits = _client(fake)
    done = client.submit(message)
    assert done.state is State.ACCEPTED and done.deleted
    assert done.correlation_id in fake.submissions and fake.submissions[done.correlation_id].deleted
    assert b"Thank you for your submission" in done.response
    assert (fake.count("request"), fake.count("poll"), fake.count("request", "delete")) == (1, 3, 1)
    assert waits == [1.0, 1.0, 1.0]  # HMRC's PollInterval is honoured before every poll
    assert done.irmark and done.message_class == "HMRC-PAYE-RTI-FPS"
    assert client.store.find_pending() == []


def test_business_error_is_rejected_with_hmrcs_text(fake, message):
    fake.outcome = "business_error"
    client, _ = _client(fake)
    done = client.submit(message)
    assert done.state is State.REJECTED
    assert done.errors[0] == "7805: The NINO is not valid for this employee. Please check."
    assert any("at /hd:GovTalkMessage[1]/hd:Body[1]" in e for e in done.errors)
    assert fake.submissions[done.correlation_id].deleted


def test_a_wrong_irmark_is_a_business_error(fake, message):
    tampered = message.replace(b"<TaxablePay>1480.00</TaxablePay>", b"<TaxablePay>1480.01</TaxablePay>", 1)
    client, _ = _client(fake)
    done = client.submit(tampered)
    assert done.state is State.REJECTED and "IRmark" in done.errors[0]


def test_crash_between_submit_and_poll_is_resumed_by_polling_never_resubmitting(fake, message, tmp_path):
    first, _ = _client(fake, FileStore(tmp_path / "submissions"))
    sent = first.submit(message, wait=False)  # the process dies here, after the acknowledgement was stored
    assert sent.state is State.PENDING and sent.correlation_id
    del first

    restarted, _ = _client(fake, FileStore(tmp_path / "submissions"))
    [pending] = restarted.store.find_pending()
    assert pending.id == sent.id and pending.correlation_id == sent.correlation_id
    [done] = restarted.resume_pending()
    assert done.state is State.ACCEPTED and done.deleted
    assert fake.count("request") == 1  # one submission in total
    assert FileStore(tmp_path / "submissions").get(sent.id).state is State.ACCEPTED
    assert restarted.resume_pending() == []


def test_a_record_without_correlation_id_is_never_sent_again(fake, message):
    fake.stop()  # HMRC unreachable: the record exists, the correlation id does not
    client, _ = _client(fake)
    with pytest.raises(GatewayError):
        client.submit(message)
    [pending] = client.store.find_pending()
    assert pending.correlation_id is None
    assert client.resume_pending() == [pending]
    with pytest.raises(GatewayError, match="not sent again"):
        client.poll(pending.id)


def test_authentication_failure_is_rejected_without_polling(fake, message):
    client, _ = _client(fake)
    client.config = GatewayConfig(fake.submission_url, fake.sender_id, "wrong")
    done = client.submit(message)
    assert done.state is State.REJECTED and done.errors[0].startswith("1046: Authentication Failure")
    assert fake.count("poll") == 0


def test_credentials_never_reach_store_repr_or_logs(fake, message, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    client, _ = _client(fake, FileStore(tmp_path / "s"))
    done = client.submit(message)
    secret = fake.password.encode()
    assert secret not in done.message and b"REDACTED" in done.message
    assert all(secret not in p.read_bytes() for p in (tmp_path / "s").glob("*.json"))
    assert fake.password not in repr(client.config) and fake.sender_id not in repr(client)
    assert fake.password not in caplog.text and caplog.text
    # What went over the wire did carry them: the fake checked them.
    assert secret in fake.submissions[done.correlation_id].message


def test_test_in_live_sets_gateway_test_and_the_til_class(fake, message):
    client, _ = _client(fake, test_in_live=True)
    done = client.submit(message)
    sent = fake.submissions[done.correlation_id]
    assert b"<GatewayTest>1</GatewayTest>" in sent.message
    assert sent.message_class == "HMRC-PAYE-RTI-FPS-TIL"
    assert done.state is State.ACCEPTED


def test_config_from_environment():
    config = GatewayConfig.from_env({"HMRC_GATEWAY_URL": "https://example.invalid/submission",
                                     "HMRC_SENDER_ID": "me", "HMRC_PASSWORD": "pw", "HMRC_TEST_IN_LIVE": "1"})
    assert config.test_in_live and "pw" not in repr(config)


def test_unparseable_reply_is_a_gateway_error():
    with pytest.raises(GatewayError):
        parse_reply(b"<html>Service unavailable</html")
