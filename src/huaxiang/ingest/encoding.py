"""Which text encoding a CSV export uses: UTF-8 (with or without BOM) or GB18030/GBK.

Chinese exports come almost only in these; a strict UTF-8 decode of a sample separates them reliably,
and charset-normalizer decides the rare remaining cases.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from charset_normalizer import from_bytes

_SAMPLE = 1 << 20


def detect_encoding(path: Path) -> str:
    """``utf-8-sig``, ``utf-8``, ``gb18030`` or charset-normalizer's best guess for the file."""
    with path.open("rb") as handle:
        sample = handle.read(_SAMPLE)
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if _decodes(sample, "utf-8"):
        return "utf-8"
    if _decodes(sample, "gb18030"):
        return "gb18030"  # a superset of GBK and GB2312
    best = from_bytes(sample).best()
    return best.encoding if best is not None else "utf-8"


def _decodes(sample: bytes, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        decoder.decode(sample, final=False)  # a sample may end inside a multi-byte character
    except UnicodeDecodeError:
        return False
    return True
