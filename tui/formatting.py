"""Text helpers for showing database content safely: no textual import, no IO.

Everything the app shows from a database goes through :func:`safe_text` and is then
wrapped in a Rich ``Text`` (never parsed as markup), so a hostile or broken value can
neither move the cursor, recolour the terminal, reorder text with bidi overrides nor
inject markup.
"""

from __future__ import annotations

import re
import time

__all__ = [
    "ELLIPSIS",
    "format_clock_ms",
    "format_datetime_ms",
    "format_clock_s",
    "safe_text",
    "short_id",
]

ELLIPSIS = "…"

# Bidi embedding/override/isolate controls and marks: they reorder what follows them.
_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
# Other invisible format characters worth making visible. The variation selectors
# (U+FE0E text, U+FE0F emoji presentation) are among them: Rich counts "⚠️" as two cells
# where tmux and many terminals draw one, which pushes borders; shown as <U+FE0F> the
# base character keeps one width everywhere and nothing stored is hidden.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u2028\u2029\u00ad\ufe0e\ufe0f"

_UNSAFE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}{_INVISIBLE}\ud800-\udfff]")
_UNSAFE_BLOCK = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}{_INVISIBLE}\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    ch = match.group(0)
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)  # control pictures: ␀ ␉ ␊ ␛ ...
    if code == 0x7F:
        return "\u2421"  # ␡
    if code <= 0x9F:
        return f"\\x{code:02x}"  # C1 controls (\x9b is a one-byte CSI)
    if 0xD800 <= code <= 0xDFFF:
        return f"\\u{code:04x}"  # lone surrogate (undecodable input)
    return f"<U+{code:04X}>"


def safe_text(s: str, limit: int | None = None, *, multiline: bool = False) -> str:
    """Return `s` with every control and bidi character replaced by a visible escape.

    C0 controls become control pictures (ESC shows as ``␛``), C1 controls ``\\x9b``,
    bidi overrides ``<U+202E>``. With ``multiline`` newlines and tabs are kept (a CRLF
    becomes a newline); otherwise they are escaped too, for one-line cells. ``limit``
    cuts the result to that many characters, the last one being ``…``.
    """
    if not isinstance(s, str):
        s = str(s)
    if multiline:
        s = s.replace("\r\n", "\n")
        out = _UNSAFE_BLOCK.sub(_escape, s)
    else:
        out = _UNSAFE_LINE.sub(_escape, s)
    if limit is not None and len(out) > limit:
        out = out[: max(limit - 1, 0)] + ELLIPSIS if limit > 0 else ""
    return out


_UUIDISH = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F-]{8,}$")


def short_id(s: str, width: int = 12) -> str:
    """A short, safe form of an id: the first 8 characters of a UUID, else a middle cut."""
    text = safe_text(s)
    if _UUIDISH.match(text):
        return text[:8]
    if len(text) <= width:
        return text
    if width < 5:
        return text[: max(width - 1, 0)] + ELLIPSIS
    tail = (width - 1) // 2
    head = width - 1 - tail
    return text[:head] + ELLIPSIS + text[len(text) - tail :]


def _local(seconds: float) -> time.struct_time:
    return time.localtime(seconds)


def format_datetime_ms(ms: int) -> str:
    """`YYYY-MM-DD HH:MM:SS` in the local time zone (TZ), or ``—`` for 0."""
    if ms <= 0:
        return "—"
    try:
        return time.strftime("%Y-%m-%d %H:%M:%S", _local(ms / 1000))
    except (OverflowError, OSError, ValueError):
        return f"{ms} ms"


def format_clock_ms(ms: int) -> str:
    """`HH:MM:SS.mmm` in the local time zone (TZ)."""
    try:
        return time.strftime("%H:%M:%S", _local(ms / 1000)) + f".{ms % 1000:03d}"
    except (OverflowError, OSError, ValueError):
        return f"{ms} ms"


def format_clock_s(seconds: float) -> str:
    """`HH:MM:SS` of a time in seconds (for example the app clock's now), local zone."""
    return time.strftime("%H:%M:%S", _local(seconds))
