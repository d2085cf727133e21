"""Client for HMRC's Transaction Engine: the GovTalk Document Submission Protocol.

submit (Qualifier request, Function submit) -> acknowledgement with CorrelationID and ResponseEndPoint
(PollInterval seconds) -> poll (Qualifier poll) to the end point until a response (accepted) or an error (HMRC's
business errors: rejected) -> delete (Function delete) so HMRC can clear the response.

Every submission is recorded before it is sent and every answer after it arrives, through ``SubmissionStore``.
A record without a correlation id means "maybe sent": it is never sent again automatically, because HMRC would
then count the payments twice; someone must check HMRC's records. A record with a correlation id is finished by
polling (``resume_pending``), which is how a crash between submit and poll is recovered.

Credentials come from configuration, go into the message only on the way out, and are redacted in every stored
copy, repr and log line.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Callable, Protocol

from hmrc_export.envelope import redact, set_gateway_test, set_sender
from hmrc_export.irmark import stated_irmark
from hmrc_export.taxyear import ENVELOPE_NS
from hmrc_export.xmlwriter import XmlWriter

log = logging.getLogger(__name__)
_E = f"{{{ENVELOPE_NS}}}"
_ERROR_RESPONSE_NS = "http://www.govtalk.gov.uk/CM/errorresponse"


class State(str, Enum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


@dataclass(frozen=True)
class GatewayConfig:
    """Where and as whom to submit. ``password`` never appears in repr, logs or stored messages."""
    submission_url: str
    sender_id: str
    password: str = field(repr=False)
    test_in_live: bool = False  # GatewayTest=1 and HMRC's "-TIL" message class: checked by HMRC, not processed
    timeout_seconds: float = 30.0
    max_wait_seconds: float = 600.0  # give up polling (the record stays pending) after this long

    def __repr__(self) -> str:
        return (f"GatewayConfig(submission_url={self.submission_url!r}, sender_id='***', password='***', "
                f"test_in_live={self.test_in_live})")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "GatewayConfig":
        env = os.environ if environ is None else environ
        return cls(submission_url=env["HMRC_GATEWAY_URL"], sender_id=env["HMRC_SENDER_ID"],
                   password=env["HMRC_PASSWORD"], test_in_live=env.get("HMRC_TEST_IN_LIVE", "") in {"1", "true", "yes"})


@dataclass(frozen=True)
class Submission:
    """One message sent to HMRC and what became of it. ``message`` is stored with credentials redacted."""
    id: str
    message_class: str
    message: bytes = field(repr=False)
    irmark: str | None
    state: State = State.PENDING
    correlation_id: str | None = None
    response_endpoint: str | None = None
    poll_interval: int | None = None  # seconds, as HMRC gives it
    response: bytes | None = field(default=None, repr=False)
    errors: tuple[str, ...] = ()
    deleted: bool = False
    created_at: str = ""
    updated_at: str = ""


class SubmissionStore(Protocol):
    def record_submission(self, submission: Submission) -> None: ...

    def update_state(self, submission_id: str, **changes: object) -> Submission: ...

    def get(self, submission_id: str) -> Submission: ...

    def find_pending(self) -> list[Submission]: ...


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class MemoryStore:
    """Submissions kept in memory: for tests and one-off runs."""

    def __init__(self) -> None:
        self._items: dict[str, Submission] = {}
        self._lock = threading.Lock()

    def record_submission(self, submission: Submission) -> None:
        with self._lock:
            if submission.id in self._items:
                raise ValueError(f"submission {submission.id} is already recorded")
            self._items[submission.id] = replace(submission, created_at=submission.created_at or _now(),
                                                 updated_at=_now())

    def update_state(self, submission_id: str, **changes: object) -> Submission:
        with self._lock:
            self._items[submission_id] = replace(self._items[submission_id], updated_at=_now(), **changes)
            return self._items[submission_id]

    def get(self, submission_id: str) -> Submission:
        return self._items[submission_id]

    def find_pending(self) -> list[Submission]:
        """Submissions still waiting for HMRC's answer, or whose answer HMRC has not yet been told to delete."""
        return [s for s in self._items.values() if s.state is State.PENDING or (s.correlation_id and not s.deleted)]


class FileStore(MemoryStore):
    """Submissions as one JSON file per submission in a folder, each written atomically (write, fsync, rename)."""

    def __init__(self, folder: Path | str) -> None:
        super().__init__()
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        for path in sorted(self.folder.glob("*.json")):
            self._items[path.stem] = self._load(path)

    @staticmethod
    def _load(path: Path) -> Submission:
        data = json.loads(path.read_text(encoding="utf-8"))
        data["message"] = data["message"].encode("utf-8")
        data["response"] = data["response"].encode("utf-8") if data["response"] is not None else None
        data["state"] = State(data["state"])
        data["errors"] = tuple(data["errors"])
        return Submission(**data)

    def _save(self, submission: Submission) -> None:
        data = asdict(submission)
        data["message"] = submission.message.decode("utf-8")
        data["response"] = submission.response.decode("utf-8") if submission.response is not None else None
        data["state"] = submission.state.value
        data["errors"] = list(submission.errors)
        path = self.folder / f"{submission.id}.json"
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    def record_submission(self, submission: Submission) -> None:
        super().record_submission(submission)
        self._save(self._items[submission.id])

    def update_state(self, submission_id: str, **changes: object) -> Submission:
        updated = super().update_state(submission_id, **changes)
        self._save(updated)
        return updated


class GatewayError(RuntimeError):
    """HMRC could not be reached or answered with something that is not the protocol."""


@dataclass(frozen=True)
class GatewayReply:
    qualifier: str
    function: str | None
    correlation_id: str | None
    response_endpoint: str | None
    poll_interval: int | None  # seconds
    errors: tuple[str, ...]
    error_types: tuple[str, ...]
    raw: bytes


def parse_reply(raw: bytes) -> GatewayReply:
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as exc:
        raise GatewayError(f"HMRC's reply is not XML: {exc}") from exc
    details = root.find(f"{_E}Header/{_E}MessageDetails")
    if details is None:
        raise GatewayError("HMRC's reply has no MessageDetails")
    endpoint = details.find(f"{_E}ResponseEndPoint")
    interval = endpoint.get("PollInterval") if endpoint is not None else None
    errors, types = [], []
    for error in root.findall(f"{_E}GovTalkDetails/{_E}GovTalkErrors/{_E}Error"):
        number = error.findtext(f"{_E}Number")
        text = " ".join(t.text.strip() for t in error.findall(f"{_E}Text") if t.text)
        errors.append(f"{number}: {text}" if number else text)
        types.append(error.findtext(f"{_E}Type") or "")
    # Business errors come with detail in Body/ErrorResponse (one Error per failed rule, with its Location).
    for error in root.iter(f"{{{_ERROR_RESPONSE_NS}}}Error"):
        number = error.findtext(f"{{{_ERROR_RESPONSE_NS}}}Number")
        text = " ".join(t.text.strip() for t in error.iter(f"{{{_ERROR_RESPONSE_NS}}}Text") if t.text)
        location = error.findtext(f"{{{_ERROR_RESPONSE_NS}}}Location")
        line = f"{number}: {text}" if number else text
        if location:
            line += f" (at {location.strip()})"
        if line not in errors:
            errors.append(line)
            types.append(error.findtext(f"{{{_ERROR_RESPONSE_NS}}}Type") or "business")
    return GatewayReply(
        qualifier=(details.findtext(f"{_E}Qualifier") or "").strip(),
        function=(details.findtext(f"{_E}Function") or "").strip() or None,
        correlation_id=(details.findtext(f"{_E}CorrelationID") or "").strip() or None,
        response_endpoint=(endpoint.text or "").strip() if endpoint is not None else None,
        poll_interval=int(interval) if interval else None,
        errors=tuple(errors), error_types=tuple(types), raw=raw)


def _control_message(message_class: str, qualifier: str, function: str, correlation_id: str) -> bytes:
    """A poll or delete request: header only, empty Body (Document Submission Protocol)."""
    w = XmlWriter()
    w.open("GovTalkMessage", {"xmlns": ENVELOPE_NS}).leaf("EnvelopeVersion", "2.0")
    w.open("Header").open("MessageDetails")
    w.leaf("Class", message_class).leaf("Qualifier", qualifier).leaf("Function", function)
    w.leaf("CorrelationID", correlation_id).leaf("Transformation", "XML")
    w.close().close()
    w.open("GovTalkDetails").empty("Keys").close()
    w.empty("Body").close()
    return ('<?xml version="1.0" encoding="UTF-8"?>' + w.text() + "\n").encode("utf-8")


def _message_class(message: bytes) -> str:
    root = ET.fromstring(message)
    value = root.findtext(f"{_E}Header/{_E}MessageDetails/{_E}Class")
    if not value:
        raise ValueError("the message has no GovTalk Class")
    return value.strip()


class GatewayClient:
    def __init__(self, config: GatewayConfig, store: SubmissionStore, *,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.store = store
        self._sleep = sleep
        self._clock = clock

    def __repr__(self) -> str:
        return f"GatewayClient({self.config!r})"

    # -- transport ---------------------------------------------------------------------------------------
    def _post(self, url: str, message: bytes) -> GatewayReply:
        request = urllib.request.Request(url, data=message, method="POST",
                                         headers={"Content-Type": "text/xml; charset=utf-8"})
        try:
            with urllib.request.urlopen(request, timeout=self.config.timeout_seconds) as answer:
                raw = answer.read()
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            if not raw:
                raise GatewayError(f"HMRC answered HTTP {exc.code}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise GatewayError(f"HMRC's Transaction Engine could not be reached: {exc}") from exc
        return parse_reply(raw)

    def _outgoing(self, message: bytes) -> bytes:
        message = set_gateway_test(message, self.config.test_in_live, til_class=self.config.test_in_live)
        return set_sender(message, self.config.sender_id, self.config.password)

    # -- protocol ----------------------------------------------------------------------------------------
    def submit(self, message: bytes, *, wait: bool = True) -> Submission:
        """Record, send and (with ``wait``) poll to the end. Returns the stored submission."""
        outgoing = self._outgoing(message)
        submission = Submission(id=uuid.uuid4().hex, message_class=_message_class(outgoing),
                                message=redact(outgoing), irmark=stated_irmark(outgoing))
        self.store.record_submission(submission)
        log.info("submitting %s %s (IRmark %s)", submission.message_class, submission.id, submission.irmark)
        reply = self._post(self.config.submission_url, outgoing)
        if reply.qualifier == "error":
            return self._finish_rejected(submission.id, reply)
        if reply.qualifier != "acknowledgement" or not reply.correlation_id:
            raise GatewayError(f"expected an acknowledgement with a CorrelationID, got {reply.qualifier!r}")
        self.store.update_state(submission.id, correlation_id=reply.correlation_id,
                                response_endpoint=reply.response_endpoint or self.config.submission_url,
                                poll_interval=reply.poll_interval)
        log.info("acknowledged %s: correlation id %s", submission.id, reply.correlation_id)
        return self.poll(submission.id) if wait else self.store.get(submission.id)

    def poll(self, submission_id: str) -> Submission:
        """Poll a recorded submission until HMRC answers, then delete HMRC's copy of the answer."""
        submission = self.store.get(submission_id)
        if not submission.correlation_id:
            raise GatewayError(f"submission {submission_id} has no correlation id: it may or may not have reached "
                               "HMRC, so it is not sent again; check HMRC's records")
        if submission.state is not State.PENDING:
            return self._delete(submission)
        started = self._clock()
        while True:
            interval = submission.poll_interval if submission.poll_interval is not None else 2
            self._sleep(interval)
            request = _control_message(submission.message_class, "poll", "submit", submission.correlation_id)
            reply = self._post(submission.response_endpoint or self.config.submission_url, self._outgoing(request))
            if reply.qualifier == "response":
                done = self.store.update_state(submission_id, state=State.ACCEPTED, response=reply.raw)
                log.info("accepted %s (correlation id %s)", submission_id, submission.correlation_id)
                return self._delete(done)
            if reply.qualifier == "error":
                return self._finish_rejected(submission_id, reply)
            if reply.qualifier != "acknowledgement":
                raise GatewayError(f"unexpected reply to a poll: {reply.qualifier!r}")
            submission = self.store.update_state(
                submission_id, response_endpoint=reply.response_endpoint or submission.response_endpoint,
                poll_interval=reply.poll_interval if reply.poll_interval is not None else submission.poll_interval)
            if self._clock() - started > self.config.max_wait_seconds:
                log.warning("still no answer for %s after %.0f s; it stays pending", submission_id,
                            self.config.max_wait_seconds)
                return submission

    def _finish_rejected(self, submission_id: str, reply: GatewayReply) -> Submission:
        errors = reply.errors or ("HMRC returned an error without a message",)
        submission = self.store.update_state(submission_id, state=State.REJECTED, response=reply.raw, errors=errors,
                                             correlation_id=reply.correlation_id or self.store.get(submission_id).correlation_id)
        log.warning("rejected %s: %s", submission_id, "; ".join(errors))
        return self._delete(submission) if submission.correlation_id else submission

    def _delete(self, submission: Submission) -> Submission:
        if submission.deleted or not submission.correlation_id:
            return submission
        request = _control_message(submission.message_class, "request", "delete", submission.correlation_id)
        try:
            self._post(submission.response_endpoint or self.config.submission_url, self._outgoing(request))
        except GatewayError as exc:
            # The answer is already stored; a failed delete is retried by resume_pending.
            log.warning("delete of %s failed: %s", submission.id, exc)
            return submission
        return self.store.update_state(submission.id, deleted=True)

    def resume_pending(self) -> list[Submission]:
        """Finish every submission left pending (after a crash or a timeout) by polling its correlation id."""
        finished = []
        for submission in self.store.find_pending():
            if submission.correlation_id:
                finished.append(self.poll(submission.id))
            else:
                log.warning("submission %s has no correlation id; it is left for a person to check", submission.id)
                finished.append(submission)
        return finished
