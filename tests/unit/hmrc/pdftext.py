"""Reading back what a WeasyPrint PDF says, for tests: pdftotext when installed, else a small decoder.

The decoder inflates every stream, reads the fonts' ToUnicode maps and decodes the hex glyph strings of the
page content (WeasyPrint writes text as Identity-H glyph ids). It also returns the dictionaries (object streams
included) so tests can look for the structure tree, language and title.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import zlib

_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)


def streams(pdf: bytes) -> list[bytes]:
    out = []
    for match in _STREAM.finditer(pdf):
        data = match.group(1)
        try:
            out.append(zlib.decompress(data))
        except zlib.error:
            out.append(data)
    return out


def everything(pdf: bytes) -> bytes:
    """The file with its streams inflated: dictionaries in object streams become searchable."""
    return pdf + b"\n".join(streams(pdf))


def _cmap(data: bytes) -> dict[int, str]:
    mapping: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            mapping[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be", "replace")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for lo, hi, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            start = int(dst, 16)
            for i, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                mapping[code] = chr(start + i)
    return mapping


def text(pdf: bytes) -> str:
    if shutil.which("pdftotext"):
        return subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    all_streams = streams(pdf)
    glyphs: dict[int, str] = {}
    for data in all_streams:
        if b"beginbfchar" in data or b"beginbfrange" in data:
            glyphs.update(_cmap(data))
    lines = []
    for data in all_streams:
        if b"TJ" not in data and b"Tj" not in data:
            continue
        for block in re.findall(rb"BT(.*?)ET", data, re.S):
            words = []
            for hexes in re.findall(rb"<([0-9A-Fa-f]+)>", block):
                h = hexes.decode()
                words.append("".join(glyphs.get(int(h[i:i + 4], 16), "?") for i in range(0, len(h), 4)))
            lines.append("".join(words))
    return "\n".join(lines)
