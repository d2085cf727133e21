"""Evidence files stored by their content: the name of a file is the SHA-256 of its bytes.

A file is kept at ``<root>/<aa>/<bb>/<sha256>`` (the first two pairs of hex digits spread files over
directories). The same bytes are stored once however often they are attached, and a file whose bytes no longer
hash to its name has been altered: :meth:`EvidenceStore.check` re-hashes it.

What is accepted is decided by the file's own first bytes, never by the name or the ``Content-Type`` the
browser sent: PDF, JPEG, PNG, WebP and HEIC/HEIF (phone photos). Anything else, an empty file and anything over
:data:`MAX_BYTES` is refused with a plain message, before anything is kept. Files are stored exactly as they
came (nothing stripped or converted), so the hash is of what the person uploaded.

Writing is atomic: bytes go to a private temporary file in the store, are flushed to disk, then linked into
place; a crash leaves at most a temporary file, never half a file under a hash.
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator

from wallet.domain.errors import InvalidRequest

log = logging.getLogger(__name__)

MAX_BYTES = 10 * 1024 * 1024
"""The largest evidence file: a phone photo is 2-6 MB, a scanned invoice less."""
_CHUNK = 64 * 1024
_SHA256 = re.compile(r"^[0-9a-f]{64}$")

MEDIA_TYPES = {
    "application/pdf": ("pdf", "PDF document"),
    "image/jpeg": ("jpg", "JPEG photo"),
    "image/png": ("png", "PNG image"),
    "image/webp": ("webp", "WebP image"),
    "image/heic": ("heic", "HEIC photo"),
    "image/heif": ("heif", "HEIF photo"),
}
"""Every type accepted: media type -> (file extension, words for people)."""

_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
_HEIF_BRANDS = {b"mif1", b"msf1", b"heif"}


class EvidenceRefused(InvalidRequest):
    """The file cannot be kept as evidence: its type, its size, or nothing in it."""


class EvidenceMissing(InvalidRequest):
    """A recorded file is not in the store (or no longer matches its hash)."""


def sniff(head: bytes) -> str | None:
    """The media type the first bytes of a file show, or None if it is none of the accepted types."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        # ISO base media: the major brand, then the compatible brands up to the end of the ftyp box.
        size = int.from_bytes(head[:4], "big")
        brands = {head[8:12]} | {head[i:i + 4] for i in range(16, min(size, len(head)) - 3, 4)}
        if brands & _HEIC_BRANDS:
            return "image/heic"
        if brands & _HEIF_BRANDS and b"avif" not in brands:
            return "image/heif"
    return None


def accepted_words() -> str:
    return "a PDF, or a photo or picture (JPEG, PNG, HEIC or WebP)"


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    media_type: str

    @property
    def extension(self) -> str:
        return MEDIA_TYPES[self.media_type][0]


class EvidenceStore:
    """The directory of evidence files (``wallet.config.evidence_dir``)."""

    def __init__(self, root: str | os.PathLike[str], max_bytes: int = MAX_BYTES):
        self.root = Path(root)
        self.max_bytes = max_bytes

    def path(self, sha256: str) -> Path:
        if not _SHA256.match(sha256 or ""):
            raise ValueError("an evidence file is named by a SHA-256 in lower-case hex")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def put(self, source: BinaryIO | bytes) -> StoredFile:
        """Check and keep a file; returns its hash, size and type. Refuses (keeping nothing) a file of a type
        not accepted, an empty one or one over the size limit."""
        stream = _BytesReader(source) if isinstance(source, (bytes, bytearray)) else source
        self.root.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".upload-", dir=self.root)
        try:
            sha = hashlib.sha256()
            size = 0
            head = b""
            with os.fdopen(handle, "wb") as out:
                while True:
                    chunk = stream.read(_CHUNK)
                    if not chunk:
                        break
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise EvidenceRefused(f"the file is larger than {self.max_bytes // (1024 * 1024)} MB: "
                                              "choose a smaller file, or take the photo again at a lower size")
                    if len(head) < 64:
                        head += chunk[:64 - len(head)]
                    sha.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            if size == 0:
                raise EvidenceRefused("the file is empty")
            media_type = sniff(head)
            if media_type is None:
                raise EvidenceRefused(f"this file is not {accepted_words()}")
            digest = sha.hexdigest()
            final = self.path(digest)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(temporary, 0o440)
            if final.exists():
                if self._hash_of(final) != digest:
                    # The copy kept under this name was altered; the new bytes are the genuine content (they
                    # hash to the name), so they take its place. Verification has reported it until now.
                    log.warning("evidence file %s did not match its hash and was replaced by a good copy", digest)
                    os.replace(temporary, final)
            else:
                try:
                    os.link(temporary, final)
                except FileExistsError:
                    pass        # another upload of the same bytes got there first: the same content
            return StoredFile(digest, size, media_type)
        finally:
            try:
                os.unlink(temporary)
            except FileNotFoundError:
                pass

    def open(self, sha256: str) -> BinaryIO:
        try:
            return open(self.path(sha256), "rb")
        except FileNotFoundError as exc:
            raise EvidenceMissing(f"the evidence file {sha256[:12]}... is not in the store") from exc

    def chunks(self, sha256: str) -> Iterator[bytes]:
        with self.open(sha256) as handle:
            while chunk := handle.read(_CHUNK):
                yield chunk

    def check(self, sha256: str) -> str | None:
        """None if the file is there and its bytes still hash to its name; otherwise what is wrong."""
        path = self.path(sha256)
        if not path.is_file():
            return "the file is missing from the evidence store"
        if self._hash_of(path) != sha256:
            return "the stored file no longer matches its recorded SHA-256 (it has been altered)"
        return None

    @staticmethod
    def _hash_of(path: Path) -> str:
        sha = hashlib.sha256()
        with open(path, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                sha.update(chunk)
        return sha.hexdigest()


class _BytesReader:
    def __init__(self, data: bytes):
        self._data = memoryview(bytes(data))
        self._at = 0

    def read(self, n: int = -1) -> bytes:
        end = len(self._data) if n < 0 else min(len(self._data), self._at + n)
        out = bytes(self._data[self._at:end])
        self._at = end
        return out


def safe_file_name(name: str | None, media_type: str) -> str:
    """A name to show and to download as: the person's own name for the file without any folder, limited to
    plain characters, with the extension of what the file really is (a PDF is never saved as ``.html``)."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = re.sub(r"[^A-Za-z0-9 _()-]+", "-", stem).strip(" -.")[:120] or "evidence"
    return f"{stem}.{MEDIA_TYPES[media_type][0]}"
