"""A small, fast XML text writer: builders emit elements in schema order, indented with tabs like HMRC's samples.

Elements are never self-closed and attributes are written in the order given (builders give them sorted), as
Canonical XML writes them."""
from __future__ import annotations


# Escaping as Canonical XML 1.0 writes it, so that a Body written here is already in canonical form and its
# IRmark can be taken from the text (irmark.insert_irmark_written) without parsing it back.
def escape_text(text: str) -> str:
    if "&" in text or "<" in text or ">" in text or "\r" in text:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#xD;")
    return text


def escape_attr(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
            .replace("\t", "&#x9;").replace("\n", "&#xA;").replace("\r", "&#xD;"))


class XmlWriter:
    def __init__(self, depth: int = 0) -> None:
        self.parts: list[str] = []
        self._stack: list[str] = []
        self._depth = depth

    def _indent(self) -> str:
        return "\n" + "\t" * (self._depth + len(self._stack))

    @staticmethod
    def _attrs(attrs: dict[str, str] | None) -> str:
        if not attrs:
            return ""
        return "".join(f' {k}="{escape_attr(v)}"' for k, v in attrs.items() if v is not None)

    def open(self, tag: str, attrs: dict[str, str] | None = None) -> "XmlWriter":
        self.parts.append(f"{self._indent()}<{tag}{self._attrs(attrs)}>")
        self._stack.append(tag)
        return self

    def close(self) -> "XmlWriter":
        tag = self._stack.pop()
        self.parts.append(f"{self._indent()}</{tag}>")
        return self

    def leaf(self, tag: str, text: str | None, attrs: dict[str, str] | None = None) -> "XmlWriter":
        """An element with text; ``None`` writes nothing (optional elements left out)."""
        if text is not None:
            self.parts.append(f"{self._indent()}<{tag}{self._attrs(attrs)}>{escape_text(text)}</{tag}>")
        return self

    def empty(self, tag: str) -> "XmlWriter":
        self.parts.append(f"{self._indent()}<{tag}></{tag}>")
        return self

    def text(self) -> str:
        if self._stack:
            raise ValueError(f"unclosed elements: {self._stack}")
        return "".join(self.parts)
