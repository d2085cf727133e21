"""The GovTalk envelope (Transaction Engine Document Submission Protocol, envelope version 2.0).

Builders produce the envelope without sender credentials or the test flag: those belong to the moment of
sending (``gateway.py`` adds them), so a stored copy of a submission never holds a password. The IRmark covers
only the Body, so changing the header afterwards leaves it valid.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from hmrc_export.model import Employer
from hmrc_export.taxyear import ENVELOPE_NS, TaxYear
from hmrc_export.xmlwriter import XmlWriter, escape_text

FPS_CLASS = "HMRC-PAYE-RTI-FPS"
EPS_CLASS = "HMRC-PAYE-RTI-EPS"


@dataclass(frozen=True)
class ChannelRouting:
    """``GovTalkDetails/ChannelRouting``: HMRC's vendor id for the software, its name and version."""
    uri: str = "0000"
    product: str = "Care Wallet"
    version: str = "0.1.0"


def govtalk_message(message_class: str, employer: Employer, body: str, *,
                    channel: ChannelRouting, timestamp: datetime | None = None) -> str:
    """Wrap an IRenvelope (text, already indented two levels) in a GovTalk request."""
    stamp = (timestamp or datetime.now(timezone.utc)).astimezone(timezone.utc)
    w = XmlWriter()
    w.open("GovTalkMessage", {"xmlns": ENVELOPE_NS})
    w.leaf("EnvelopeVersion", "2.0")
    w.open("Header").open("MessageDetails")
    w.leaf("Class", message_class).leaf("Qualifier", "request").leaf("Function", "submit")
    w.empty("CorrelationID").leaf("Transformation", "XML")
    w.close().close()
    w.open("GovTalkDetails").open("Keys")
    w.leaf("Key", employer.hmrc_office_number, {"Type": "TaxOfficeNumber"})
    w.leaf("Key", employer.paye_reference, {"Type": "TaxOfficeReference"})
    w.close()
    w.open("TargetDetails").leaf("Organisation", "IR").close()
    w.open("ChannelRouting").open("Channel")
    w.leaf("URI", channel.uri).leaf("Product", channel.product).leaf("Version", channel.version)
    w.close().leaf("Timestamp", stamp.strftime("%Y-%m-%dT%H:%M:%S")).close()
    w.close()
    w.open("Body")
    w.parts.append(body)
    w.close().close()
    return '<?xml version="1.0" encoding="UTF-8"?>' + w.text() + "\n"


_HEADER_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?Header>")
_TRANSFORMATION = re.compile(rb"(<(?:[A-Za-z_][\w.-]*:)?Transformation>[^<]*</(?:[A-Za-z_][\w.-]*:)?Transformation>)")
_MESSAGE_DETAILS_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?MessageDetails>")
_GATEWAY_TEST = re.compile(rb"\s*<(?:[A-Za-z_][\w.-]*:)?GatewayTest>[^<]*</(?:[A-Za-z_][\w.-]*:)?GatewayTest>")
_SENDER_DETAILS = re.compile(rb"\s*<(?:[A-Za-z_][\w.-]*:)?SenderDetails>.*?</(?:[A-Za-z_][\w.-]*:)?SenderDetails>", re.S)
_CLASS = re.compile(rb"(<(?:[A-Za-z_][\w.-]*:)?Class>)([^<]*)(</(?:[A-Za-z_][\w.-]*:)?Class>)")


def _header_split(message: bytes) -> tuple[bytes, bytes]:
    end = _HEADER_END.search(message)
    if not end:
        raise ValueError("not a GovTalk message: no Header element")
    return message[:end.start()], message[end.start():]


def set_gateway_test(message: bytes, test: bool, *, til_class: bool = False) -> bytes:
    """Set or clear ``GatewayTest`` (1 = test message); ``til_class`` adds the Test in Live class suffix."""
    head, rest = _header_split(message)
    head = _GATEWAY_TEST.sub(b"", head)
    if test:
        flag = b"\n\t\t\t<GatewayTest>1</GatewayTest>"
        if _TRANSFORMATION.search(head):
            head = _TRANSFORMATION.sub(lambda m: m.group(1) + flag, head, count=1)
        else:
            head = _MESSAGE_DETAILS_END.sub(lambda m: flag + b"\n\t\t" + m.group(0), head, count=1)
    if til_class:
        head = _CLASS.sub(lambda m: m.group(1) + (m.group(2) if m.group(2).endswith(b"-TIL") else m.group(2) + b"-TIL")
                          + m.group(3), head, count=1)
    return head + rest


def set_sender(message: bytes, sender_id: str | None, password: str | None) -> bytes:
    """Put (or with ``None`` remove) the clear-text ``IDAuthentication`` the Government Gateway asks for."""
    head, rest = _header_split(message)
    head = _SENDER_DETAILS.sub(b"", head)
    if sender_id is not None and password is not None:
        block = ("\n\t\t<SenderDetails>\n\t\t\t<IDAuthentication>\n\t\t\t\t<SenderID>" + escape_text(sender_id)
                 + "</SenderID>\n\t\t\t\t<Authentication>\n\t\t\t\t\t<Method>clear</Method>\n\t\t\t\t\t<Role>principal</Role>"
                 + "\n\t\t\t\t\t<Value>" + escape_text(password) + "</Value>\n\t\t\t\t</Authentication>"
                 + "\n\t\t\t</IDAuthentication>\n\t\t</SenderDetails>").encode("utf-8")
        end = _MESSAGE_DETAILS_END.search(head)
        if not end:
            raise ValueError("not a GovTalk message: no MessageDetails element")
        head = head[:end.end()] + block + head[end.end():]
    return head + rest


def redact(message: bytes) -> bytes:
    """The message with any sender credentials replaced, for storage and logs."""
    head, rest = _header_split(message)
    head = re.sub(rb"(<(?:[A-Za-z_][\w.-]*:)?(?:SenderID|Value)>)[^<]*(<)", rb"\1REDACTED\2", head)
    return head + rest


def ir_header(w: XmlWriter, employer: Employer, year: TaxYear) -> None:
    """The IRheader that opens every RTI body: the employer's keys, period end, the IRmark placeholder."""
    w.open("IRheader").open("Keys")
    w.leaf("Key", employer.hmrc_office_number, {"Type": "TaxOfficeNumber"})
    w.leaf("Key", employer.paye_reference, {"Type": "TaxOfficeReference"})
    w.close()
    w.leaf("PeriodEnd", year.last_day.isoformat()).leaf("DefaultCurrency", "GBP")
    w.leaf("IRmark", "", {"Type": "generic"}).leaf("Sender", "Employer")
    w.close()
