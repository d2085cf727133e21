"""Writing a command's output file whole or not at all."""
from __future__ import annotations

from pathlib import Path


def write_whole(out: Path, data: bytes) -> None:
    """Write to ``<name>.part`` and rename it over ``out`` only once every byte is down, so a full disk never
    leaves half a document where the finished one should be; the part-file is removed if the write fails."""
    part = out.with_name(out.name + ".part")
    try:
        part.write_bytes(data)
        part.replace(out)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
