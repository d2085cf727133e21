"""A local stand-in for HMRC's Transaction Engine, speaking the GovTalk Document Submission Protocol.

Runs a threaded http.server on 127.0.0.1 with a random port. It checks the sender's credentials and the IRmark,
acknowledges with a CorrelationID, a ResponseEndPoint and a PollInterval, answers polls with another
acknowledgement until the submission is "processed", then with a response (accepted) or a business error, and
honours delete. ``outcome`` and ``polls_before_answer`` choose what the next submission gets.
"""
from __future__ import annotations

import threading
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from hmrc_export.irmark import verify_irmark
from hmrc_export.xmlwriter import escape_text

ENV = "http://www.govtalk.gov.uk/CM/envelope"
_E = f"{{{ENV}}}"


@dataclass
class FakeSubmission:
    correlation_id: str
    message_class: str
    message: bytes
    outcome: str
    polls_left: int
    error_text: str
    deleted: bool = False
    polls: int = 0


@dataclass
class FakeHMRCGateway:
    sender_id: str = "CARE-WALLET-TEST"
    password: str = "correct horse battery staple"
    poll_interval: int = 1
    outcome: str = "accept"  # or "business_error"
    polls_before_answer: int = 1
    error_text: str = "The NINO is not valid for this employee. Please check."
    submissions: dict[str, FakeSubmission] = field(default_factory=dict)
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # (path, qualifier, function)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length", "0"))
                body = gateway.handle(self.path, self.rfile.read(length))
                self.send_response(200)
                self.send_header("Content-Type", "text/xml; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self._stopped = False

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def submission_url(self) -> str:
        return self.url + "/submission"

    def start(self) -> "FakeHMRCGateway":
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "FakeHMRCGateway":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def count(self, qualifier: str, function: str = "submit") -> int:
        return sum(1 for _, q, f in self.requests if q == qualifier and f == function)

    # -- protocol ----------------------------------------------------------------------------------------
    def handle(self, path: str, raw: bytes) -> bytes:
        try:
            root = ET.fromstring(raw)
        except ET.ParseError:
            return self._error("", "", "fatal", 1001, "The submitted XML document failed validation")
        details = root.find(f"{_E}Header/{_E}MessageDetails")
        cls = details.findtext(f"{_E}Class", "")
        qualifier = details.findtext(f"{_E}Qualifier", "")
        function = details.findtext(f"{_E}Function", "")
        correlation = (details.findtext(f"{_E}CorrelationID") or "").strip()
        with self._lock:
            self.requests.append((path, qualifier, function))
            if qualifier == "request" and function == "submit" and path == "/submission":
                return self._submit(root, cls, raw)
            if correlation not in self.submissions:
                return self._error(cls, correlation, "fatal", 2000, "Correlation ID not recognised")
            item = self.submissions[correlation]
            if qualifier == "poll":
                return self._poll(item)
            if qualifier == "request" and function == "delete":
                item.deleted = True
                return self._reply(cls, "response", "delete", correlation)
        return self._error(cls, correlation, "fatal", 1000, "Unknown request")

    def _submit(self, root: ET.Element, cls: str, raw: bytes) -> bytes:
        auth = root.find(f"{_E}Header/{_E}SenderDetails/{_E}IDAuthentication")
        sender = auth.findtext(f"{_E}SenderID") if auth is not None else None
        secret = auth.findtext(f"{_E}Authentication/{_E}Value") if auth is not None else None
        if sender != self.sender_id or secret != self.password:
            return self._error(cls, "", "fatal", 1046, "Authentication Failure. The supplied user credentials "
                               "failed validation for the requested service.")
        correlation = uuid.uuid4().hex.upper()
        outcome, text = self.outcome, self.error_text
        if not verify_irmark(raw):
            outcome, text = "business_error", "The IRmark in the submission is incorrect."
        self.submissions[correlation] = FakeSubmission(correlation, cls, raw, outcome, self.polls_before_answer, text)
        return self._reply(cls, "acknowledgement", "submit", correlation, endpoint=True)

    def _poll(self, item: FakeSubmission) -> bytes:
        item.polls += 1
        if item.polls_left > 0:
            item.polls_left -= 1
            return self._reply(item.message_class, "acknowledgement", "submit", item.correlation_id, endpoint=True)
        if item.outcome == "accept":
            body = ('<SuccessResponse xmlns="http://www.inlandrevenue.gov.uk/SuccessResponse">'
                    "<Message code=\"0000\">Thank you for your submission</Message></SuccessResponse>")
            return self._reply(item.message_class, "response", "submit", item.correlation_id, body=body)
        return self._error(item.message_class, item.correlation_id, "business", 7805, item.error_text)

    def _reply(self, cls: str, qualifier: str, function: str, correlation: str, *, endpoint: bool = False,
               body: str = "", errors: str = "") -> bytes:
        end = (f'<ResponseEndPoint PollInterval="{self.poll_interval}">{self.url}/poll</ResponseEndPoint>'
               if endpoint else "")
        return (f'<?xml version="1.0" encoding="UTF-8"?><GovTalkMessage xmlns="{ENV}"><EnvelopeVersion>2.0'
                f"</EnvelopeVersion><Header><MessageDetails><Class>{escape_text(cls)}</Class><Qualifier>{qualifier}"
                f"</Qualifier><Function>{function}</Function><CorrelationID>{correlation}</CorrelationID>{end}"
                f"<GatewayTimestamp>2026-05-01T12:00:00.000</GatewayTimestamp></MessageDetails></Header>"
                f"<GovTalkDetails><Keys/>{errors}</GovTalkDetails><Body>{body}</Body></GovTalkMessage>").encode()

    def _error(self, cls: str, correlation: str, kind: str, number: int, text: str) -> bytes:
        errors = (f"<GovTalkErrors><Error><RaisedBy>{'ChRIS' if kind == 'business' else 'Gateway'}</RaisedBy>"
                  f"<Number>{number}</Number><Type>{kind}</Type><Text>{escape_text(text)}</Text></Error>"
                  f"</GovTalkErrors>")
        body = ""
        if kind == "business":
            body = (f'<ErrorResponse xmlns="http://www.govtalk.gov.uk/CM/errorresponse" SchemaVersion="2.0">'
                    f"<Application><MessageCount>1</MessageCount></Application><Error><RaisedBy>ChRIS</RaisedBy>"
                    f"<Number>{number}</Number><Type>business</Type><Text>{escape_text(text)}</Text>"
                    f"<Location>/hd:GovTalkMessage[1]/hd:Body[1]</Location></Error></ErrorResponse>")
        return self._reply(cls, "error", "submit", correlation, body=body, errors=errors)
