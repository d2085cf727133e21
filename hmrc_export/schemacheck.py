"""HMRC's schema compiled into plain Python checks, for documents too large for xmlschema's validator.

xmlschema loads and interprets HMRC's XSD (it is the one library that reads HMRC's FPS schema); validating a
10,000-employee FPS with it takes seconds per thousand employees. This module walks the schema components
xmlschema built and turns each content model into a regular expression over child element names and each simple
type into its facets (patterns as xmlschema translated them, enumerations, lengths, numeric and date bounds), so a
document is checked in one pass of fast comparisons.

It answers "is this valid?" and where not, which element. ``validate.py`` uses it only for large documents and
then asks xmlschema itself to explain any element it rejects, so the wording of problems is xmlschema's. Tests
check that both agree on valid documents and on broken ones.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal, InvalidOperation

import xmlschema
from xmlschema.validators import XsdElement, XsdGroup

XSD = "{http://www.w3.org/2001/XMLSchema}"
_XSI = "{http://www.w3.org/2001/XMLSchema-instance}"

ValueCheck = Callable[[str], bool]


def _decimal(text: str) -> Decimal | None:
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _date(text: str) -> date | None:
    if not re.fullmatch(r"-?\d{4,}-\d{2}-\d{2}(Z|[+-]\d{2}:\d{2})?", text):
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


_BUILTIN_LEXICAL: dict[str, Callable[[str], object | None]] = {
    "decimal": _decimal,
    "integer": lambda t: _decimal(t) if re.fullmatch(r"[+-]?\d+", t) else None,
    "nonNegativeInteger": lambda t: _decimal(t) if re.fullmatch(r"\+?\d+", t) else None,
    "positiveInteger": lambda t: _decimal(t) if re.fullmatch(r"\+?0*[1-9]\d*", t) else None,
    "int": lambda t: _decimal(t) if re.fullmatch(r"[+-]?\d+", t) and -2**31 <= int(t) < 2**31 else None,
    "date": _date,
    "dateTime": lambda t: t if re.fullmatch(r"-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?", t) else None,
    "string": lambda t: t,
    "normalizedString": lambda t: t,
    "token": lambda t: t,
    "anyURI": lambda t: t,
    "NCName": lambda t: t if re.fullmatch(r"[A-Za-z_][\w.\-]*", t) else None,
    "boolean": lambda t: t if t in {"true", "false", "1", "0"} else None,
    "base64Binary": lambda t: t if re.fullmatch(r"[A-Za-z0-9+/=\s]*", t) else None,
}
_STRINGS = {"string", "normalizedString", "token", "anyURI", "NCName", "base64Binary"}


def _bound(value: object, primitive: str) -> object:
    text = str(value)
    return _date(text) if primitive == "date" else Decimal(text)


def _simple_check(xsd_type) -> ValueCheck:
    """A function telling whether a text is a valid value of a simple type."""
    if hasattr(xsd_type, "member_types") and xsd_type.member_types:  # union
        members = [_simple_check(m) for m in xsd_type.member_types]
        return lambda text: any(check(text) for check in members)
    primitive = xsd_type.primitive_type.local_name if xsd_type.primitive_type is not None else "string"
    lexical = _BUILTIN_LEXICAL.get(primitive)
    if lexical is None:
        return xsd_type.is_valid  # a type HMRC does not use: let xmlschema decide
    steps = []  # facets of each derivation step, most derived first
    t = xsd_type
    while t is not None:
        if type(t).__name__ == "XsdAtomicBuiltin" and t.local_name in _BUILTIN_LEXICAL:
            name = t.local_name
            steps.append(("builtin", name))
            break
        facets = getattr(t, "facets", None) or {}
        for key, facet in facets.items():
            if key is None:
                continue
            local = key.split("}")[-1]
            if local == "pattern":
                steps.append(("pattern", tuple(facet.patterns)))
            elif local == "enumeration":
                steps.append(("enumeration", frozenset(str(v) for v in facet.enumeration)))
            elif local in ("length", "minLength", "maxLength"):
                steps.append((local, facet.value))
            elif local in ("minInclusive", "maxInclusive", "minExclusive", "maxExclusive"):
                steps.append((local, _bound(facet.value, primitive)))
        t = t.base_type
    collapse = primitive not in _STRINGS or primitive == "token"
    numeric_or_date = primitive not in _STRINGS and primitive != "boolean" and primitive != "dateTime"

    def check(text: str) -> bool:
        known = seen.get(text)
        if known is None:
            if len(seen) > 50_000:
                seen.clear()
            known = seen[text] = full_check(text)
        return known

    seen: dict[str, bool] = {}  # codes, dates, letters and common amounts repeat across employees

    def full_check(text: str) -> bool:
        value = " ".join(text.split()) if collapse else text
        parsed = lexical(value)
        if parsed is None:
            return False
        for kind, arg in steps:
            if kind == "pattern":
                if not any(p.match(value) for p in arg):
                    return False
            elif kind == "enumeration":
                if value not in arg:
                    return False
            elif kind == "length":
                if len(value) != arg:
                    return False
            elif kind == "minLength":
                if len(value) < arg:
                    return False
            elif kind == "maxLength":
                if len(value) > arg:
                    return False
            elif kind == "builtin":
                if arg != primitive and _BUILTIN_LEXICAL[arg](value) is None:  # integer kinds of decimal
                    return False
            elif numeric_or_date:
                if kind == "minInclusive" and parsed < arg or kind == "maxInclusive" and parsed > arg \
                        or kind == "minExclusive" and parsed <= arg or kind == "maxExclusive" and parsed >= arg:
                    return False
        return True

    return check


class CompiledSchema:
    def __init__(self, schema: xmlschema.XMLSchema10) -> None:
        self.schema = schema
        self._tokens: dict[str, str] = {}
        self._compiled: dict[int, tuple] = {}

    def _token(self, name: str) -> str:
        if name not in self._tokens:
            self._tokens[name] = chr(0x100 + len(self._tokens))
        return self._tokens[name]

    def _model(self, group: XsdGroup, children: dict[str, XsdElement]) -> str:
        parts = []
        for item in group:
            if isinstance(item, XsdElement):
                children[item.name] = item
                body = self._token(item.name)
            elif isinstance(item, XsdGroup):
                body = f"(?:{self._model(item, children)})"
            else:
                raise TypeError(f"wildcards are not compiled: {item!r}")
            low, high = item.min_occurs, item.max_occurs
            if (low, high) == (1, 1):
                parts.append(body)
            elif (low, high) == (0, 1):
                parts.append(f"(?:{body})?")
            elif high is None:
                parts.append(f"(?:{body}){{{low},}}")
            else:
                parts.append(f"(?:{body}){{{low},{high}}}")
        if group.model == "choice":
            return "|".join(parts)
        if group.model == "sequence":
            return "".join(parts)
        raise TypeError(f"content model {group.model} is not compiled")

    def _compile(self, decl: XsdElement) -> tuple:
        key = id(decl)
        if key not in self._compiled:
            xsd_type = decl.type
            attributes: dict[str, tuple[bool, ValueCheck]] = {}
            if xsd_type.is_complex():
                for name, attribute in xsd_type.attributes.items():
                    if name is None or attribute.use == "prohibited":
                        continue
                    attributes[name] = (attribute.use == "required", _simple_check(attribute.type))
            if xsd_type.is_simple():
                compiled = ("simple", _simple_check(xsd_type), attributes)
            elif xsd_type.has_simple_content():
                compiled = ("simple", _simple_check(xsd_type.content), attributes)
            else:
                children: dict[str, XsdElement] = {}
                pattern = re.compile(self._model(xsd_type.content, children)) if xsd_type.content else re.compile("")
                compiled = ("complex", pattern, attributes, children)
            self._compiled[key] = compiled
        return self._compiled[key]

    def iter_invalid(self, root: ET.Element) -> Iterator[tuple[ET.Element, str]]:
        """(element, what is wrong) for each element the schema rejects."""
        decl = self.schema.elements.get(root.tag.split("}")[-1])
        if decl is None or decl.name != root.tag:
            yield root, "not an element this schema declares"
            return
        stack = [(root, self._compile(decl))]
        tokens = self._tokens
        compile_ = self._compile
        while stack:
            element, compiled = stack.pop()
            attributes = compiled[2]
            if element.attrib or attributes:
                for name, value in element.attrib.items():
                    if name not in attributes:
                        if not name.startswith(_XSI):
                            yield element, f"attribute {name} is not allowed"
                    elif not attributes[name][1](value):
                        yield element, f"attribute {name} has a value the schema does not accept"
                for name, (required, _check) in attributes.items():
                    if required and name not in element.attrib:
                        yield element, f"attribute {name} is required"
            if compiled[0] == "simple":
                if len(element):
                    yield element, "child elements are not allowed here"
                elif not compiled[1](element.text or ""):
                    yield element, "the value is not accepted by the schema"
                continue
            _, pattern, _, children = compiled
            if element.text and element.text.strip():
                yield element, "text is not allowed here"
            sequence = "".join(tokens.get(child.tag, "\x00") for child in element)
            if not pattern.fullmatch(sequence):
                yield element, "elements are missing, out of order or not allowed here"
            for child in reversed(element):
                if child.tail and child.tail.strip():
                    yield element, "text is not allowed here"
                child_decl = children.get(child.tag)
                if child_decl is not None:
                    stack.append((child, compile_(child_decl)))
