"""The IRmark: HMRC's digest of a submission's Body, carried in ``IRheader/IRmark``.

HMRC's method (IRmark specification; PAYROLL-RULES.md): remove the IRmark element, take the Body element in the
GovTalk envelope namespace (``<Body xmlns="http://www.govtalk.gov.uk/CM/envelope">...</Body>``), canonicalise it
with inclusive Canonical XML 1.0 without comments, SHA-1 the UTF-8 bytes; the message carries the digest in
base64, people are shown it in base32.

The canonical form is written here rather than by ``xml.etree.ElementTree.canonicalize``: that function
implements C14N 2.0, which drops namespace declarations nobody uses, while C14N 1.0 keeps them, so the two
differ on such documents. Whitespace inside Body is part of the digest, so documents are parsed from their bytes.
"""
from __future__ import annotations

import base64
import hashlib
import io
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from hmrc_export.taxyear import ENVELOPE_NS

_XML_NS = "http://www.w3.org/XML/1998/namespace"
_BODY = f"{{{ENVELOPE_NS}}}Body"


@dataclass(frozen=True)
class IRmark:
    digest: bytes

    @property
    def base64(self) -> str:
        return base64.b64encode(self.digest).decode("ascii")

    @property
    def base32(self) -> str:
        return base64.b32encode(self.digest).decode("ascii")

    def __str__(self) -> str:
        return self.base64


class IRmarkError(ValueError):
    pass


def _escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#xD;")


def _escape_attr(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
            .replace("\t", "&#x9;").replace("\n", "&#xA;").replace("\r", "&#xD;"))


def _split(name: str) -> tuple[str, str]:
    if name[:1] == "{":
        uri, local = name[1:].split("}", 1)
        return uri, local
    return "", name


def _parse(message: bytes) -> tuple[dict[ET.Element, list[tuple[str, str]]], list[ET.Element]]:
    """The namespace declarations made on each element, and the path from the root to Body."""
    declared: dict[ET.Element, list[tuple[str, str]]] = {}
    pending: list[tuple[str, str]] = []
    root = None
    try:
        for event, item in ET.iterparse(io.BytesIO(message), events=("start-ns", "start")):
            if event == "start-ns":
                pending.append(item)
            else:
                if pending:
                    declared[item] = pending
                    pending = []
                if root is None:
                    root = item
    except ET.ParseError as exc:
        raise IRmarkError(f"the message is not well-formed XML: {exc}") from exc
    body = root.find(_BODY)  # GovTalk puts Body directly under GovTalkMessage
    if body is not None:
        return declared, [root, body]
    for candidate in root.iter(_BODY):
        parents = {child: parent for parent in root.iter() for child in parent}
        path = [candidate]
        while path[-1] is not root:
            path.append(parents[path[-1]])
        return declared, path[::-1]
    raise IRmarkError("the message has no GovTalk Body element")


def canonical_body(message: bytes) -> bytes:
    """The bytes HMRC hashes: Body without its IRmark, in C14N 1.0 (inclusive, no comments)."""
    declared, body_path = _parse(message)
    # Namespaces in scope at Body come from Body's ancestors; C14N renders them all on the apex element.
    scope: dict[str, str] = {}
    for element in body_path[:-1]:
        for prefix, uri in declared.get(element, ()):
            scope[prefix] = uri
    out: list[str] = []
    _write(body_path[-1], scope, declared, out)
    return "".join(out).encode("utf-8")


def _qualify(uri: str, local: str, scope: dict[str, str], is_attr: bool) -> str:
    if not uri:
        return local
    if uri == _XML_NS:
        return f"xml:{local}"
    if not is_attr and scope.get("") == uri:
        return local
    for prefix, value in scope.items():
        if value == uri and prefix:
            return f"{prefix}:{local}"
    raise IRmarkError(f"namespace {uri} is not declared in scope")


def _needs_escape(text: str) -> bool:
    return "&" in text or "<" in text or ">" in text or "\r" in text


def _write(apex: ET.Element, apex_scope: dict[str, str], declared: dict[ET.Element, list[tuple[str, str]]],
           out: list[str]) -> None:
    """Serialise ``apex`` canonically. Scopes are shared, not copied, until an element declares a namespace:
    a 10,000-employee FPS has two declarations and 600,000 elements."""
    names: dict[tuple[int, str], str] = {}  # (id of scope, tag) -> qualified name
    append = out.append
    # Stack entries: (element, scope, rendered namespaces, closing name or None)
    stack: list[tuple[ET.Element, dict[str, str], dict[str, str], str | None]] = [(apex, apex_scope, {}, None)]
    while stack:
        node, outer_scope, outer_rendered, closing = stack.pop()
        if closing is not None:
            append(f"</{closing}>")
            tail = node.tail
            if tail and node is not apex:
                append(_escape_text(tail) if _needs_escape(tail) else tail)
            continue
        if node is not apex and (node.tag.endswith("}IRmark") or node.tag == "IRmark"):
            if node is not apex and node.tail:
                append(_escape_text(node.tail) if _needs_escape(node.tail) else node.tail)
            continue
        own = declared.get(node)
        scope, rendered, decls = outer_scope, outer_rendered, None
        if own or node is apex:
            scope = dict(outer_scope)
            scope.update(own or ())
            # Render each in-scope namespace whose binding differs from what the nearest output ancestor shows.
            decls = [(prefix, uri) for prefix, uri in scope.items() if outer_rendered.get(prefix, "") != uri]
            if outer_rendered.get("") and not scope.get(""):
                decls.append(("", ""))
            if decls:
                rendered = dict(outer_rendered)
                rendered.update(decls)
        key = (id(scope), node.tag)
        name = names.get(key)
        if name is None:
            uri, local = _split(node.tag)
            name = names[key] = _qualify(uri, local, scope, False)
        if decls or node.attrib:
            parts = [f"<{name}"]
            for prefix, value in sorted(decls or ()):
                parts.append(f' xmlns:{prefix}="{_escape_attr(value)}"' if prefix else f' xmlns="{_escape_attr(value)}"')
            for (auri, alocal), value in sorted((_split(k), v) for k, v in node.attrib.items()):
                parts.append(f' {_qualify(auri, alocal, scope, True)}="{_escape_attr(value)}"')
            parts.append(">")
            append("".join(parts))
        else:
            append(f"<{name}>")
        text = node.text
        if text:
            append(_escape_text(text) if _needs_escape(text) else text)
        stack.append((node, scope, rendered, name))
        if len(node):
            stack.extend((child, scope, rendered, None) for child in reversed(node))


def compute_irmark(message: bytes) -> IRmark:
    return IRmark(hashlib.sha1(canonical_body(message)).digest())


_IRMARK_ELEMENT = re.compile(rb"(<(?:[A-Za-z_][\w.-]*:)?IRmark\b[^>]*>)([^<]*)(</(?:[A-Za-z_][\w.-]*:)?IRmark>)")


def stated_irmark(message: bytes) -> str | None:
    """The IRmark the message carries, or None."""
    match = _IRMARK_ELEMENT.search(message)
    return match.group(2).decode("ascii").strip() if match else None


def insert_irmark(message: bytes) -> bytes:
    """Fill the message's IRmark element with the IRmark of its Body."""
    if not _IRMARK_ELEMENT.search(message):
        raise IRmarkError("the message has no IRmark element to fill")
    mark = compute_irmark(message).base64.encode("ascii")
    return _IRMARK_ELEMENT.sub(lambda m: m.group(1) + mark + m.group(3), message, count=1)


_PLACEHOLDER = '<IRmark Type="generic"></IRmark>'


def insert_irmark_written(message: str) -> bytes:
    """Fill the IRmark of a message written by ``XmlWriter`` (the FPS and EPS builders), without parsing it.

    The writer's Body is canonical as written (no empty-element tags, canonical escaping, one default
    namespace declaration on IRenvelope, sorted attributes), so HMRC's canonical form is that text with the
    envelope namespace declared on Body and the empty IRmark element taken out. Tests check this equals the
    general path (``compute_irmark``) on every builder output they make.
    """
    start, end = message.index("<Body>"), message.rindex("</Body>") + len("</Body>")
    body = message[start:end]
    at = body.index(_PLACEHOLDER)
    canonical = f'<Body xmlns="{ENVELOPE_NS}">' + body[len("<Body>"):at] + body[at + len(_PLACEHOLDER):]
    mark = base64.b64encode(hashlib.sha1(canonical.encode("utf-8")).digest()).decode("ascii")
    filled = body[:at] + f'<IRmark Type="generic">{mark}</IRmark>' + body[at + len(_PLACEHOLDER):]
    return (message[:start] + filled + message[end:]).encode("utf-8")


def verify_irmark(message: bytes) -> bool:
    stated = stated_irmark(message)
    return stated is not None and stated == compute_irmark(message).base64
