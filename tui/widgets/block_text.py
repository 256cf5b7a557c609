"""Pure text rules of the turn detail: visible blanks, tool errors, lossless Markdown.

No textual import and no IO: every function here takes plain values and returns strings
or Rich `Text`, so the rules the detail screen relies on are unit-tested on their own.

The Markdown view is *lossless*: it styles the source text in place (headings bold,
emphasis italic, code spans and fenced code marked, Markdown delimiters dimmed) instead
of re-flowing it, so its plain text is always exactly the stored text: HTML-like spans
such as ``<stock-ledger>``, every newline and every indentation survive.
"""

from __future__ import annotations

import re
from typing import Any

from rich.style import Style
from rich.text import Text

from tui.formatting import format_datetime_ms, safe_text

BLANK_SPACE = "\u2420"  # ␠ SYMBOL FOR SPACE


# -- visible blanks -------------------------------------------------------------------


def _visible_space(ch: str) -> str:
    if ch == " ":
        return BLANK_SPACE
    if ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F:
        return safe_text(ch)  # tab, newline, ...: control pictures (␉, ␊)
    return f"<U+{ord(ch):04X}>"  # no-break space, ideographic space, ...


def is_blank_key(value: str) -> bool:
    """A stored value made only of white space (not empty): shown visibly, means unknown."""
    return value != "" and value.strip() == ""


def visible_blank(value: str, limit: int | None = None) -> str:
    """`value` made safe, with its leading and trailing white space made visible.

    A value of only white space shows every character: ``"  "`` becomes ``"␠␠"``, a tab
    ``"␉"``, a no-break space ``"<U+00A0>"``. White space inside a value is kept as is.
    The empty string stays empty (the caller says "unknown").
    """
    if value == "":
        return ""
    core = value.strip()
    if core == "":
        out = "".join(_visible_space(ch) for ch in value)
    else:
        start = value.index(core[0])
        end = start + len(core)
        head = "".join(_visible_space(ch) for ch in value[:start])
        tail = "".join(_visible_space(ch) for ch in value[end:])
        out = head + safe_text(core) + tail
    if limit is not None and len(out) > limit:
        out = safe_text(out, limit)
    return out


# -- runtime and inference id attribution ---------------------------------------------


def stored_note(
    stored: str,
    metadata_value: str,
    *,
    derived: bool,
    column: str,
    what: str = "runtime",
) -> str:
    """How the shown value of `column` got there: stored, blank, empty or derived.

    `metadata_value` is what the metadata rules give (``Attribution.value``).
    """
    meta = safe_text(metadata_value, 60)
    if derived:
        return (
            f"derived in memory from metadata (read-only overlay); the file's {column} "
            "column is empty, not written"
        )
    if is_blank_key(stored):
        if metadata_value:
            return (
                f"stored as blank; metadata says `{meta}` but pinocchio's backfill only "
                "fills empty columns"
            )
        return (
            f"stored as blank; the metadata has no {what} value either (pinocchio's "
            "backfill only fills empty columns)"
        )
    if stored == "":
        if metadata_value:
            return f"not stored (empty column); metadata says `{meta}`"
        return f"not stored (empty column) and no {what} value in the metadata"
    note = f"stored in the turns.{column} column"
    if metadata_value and metadata_value != stored:
        note += f"; metadata says `{meta}` (the stored value is the turn's history)"
    return note


# -- tool results ---------------------------------------------------------------------


def tool_error(payload: Any) -> Any | None:
    """The error of a `tool_use` payload, or None when the tool succeeded.

    Only a non-blank error is an error: a missing, null, empty or white-space `error`
    (pinocchio writes ``{"error": "", "result": ...}`` on success), ``false`` or an empty
    list or map is a success.
    """
    if not isinstance(payload, dict):
        return None
    error = payload.get("error")
    if error is None or error is False:
        return None
    if isinstance(error, str):
        return error if error.strip() else None
    if isinstance(error, (dict, list)) and not error:
        return None
    return error


# -- timestamps -----------------------------------------------------------------------


def format_timestamp_ms(ms: int) -> str:
    """`YYYY-MM-DD HH:MM:SS.mmm` in the local zone, ``—`` for 0."""
    full = format_datetime_ms(ms)
    if ms <= 0 or len(full) != 19:
        return full
    return f"{full}.{ms % 1000:03d}"


def day_of(ms: int) -> str:
    """`YYYY-MM-DD` of a time in ms in the local zone ("" when unknown)."""
    full = format_datetime_ms(ms)
    return full[:10] if len(full) == 19 else ""


# -- lossless Markdown ----------------------------------------------------------------

DELIMITER = Style(dim=True)
HEADING = Style(bold=True)
STRONG = Style(bold=True)
EMPHASIS = Style(italic=True)
CODE = Style(bold=True, dim=True)
LINK = Style(underline=True)
QUOTE = Style(italic=True)

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r"^( {0,3}#{1,6})(?:[ \t]|$)")
_QUOTE = re.compile(r"^( {0,3}>+)")
_BULLET = re.compile(r"^([ \t]*)([-*+]|\d{1,9}[.)])[ \t]")
_INLINE = re.compile(
    r"(?P<code>(?P<ticks>`+)(?!`).+?(?<!`)(?P=ticks)(?!`))"
    r"|(?P<strong>(?P<sd>\*\*|__)(?=\S)(?:.+?)(?<=\S)(?P=sd))"
    r"|(?P<em>(?<![\w*])\*(?=[^\s*])(?:[^*\n]+?)(?<=[^\s*])\*(?!\*)"
    r"|(?<![\w_])_(?=[^\s_])(?:[^_\n]+?)(?<=[^\s_])_(?![\w_]))"
    r"|(?P<link>\[(?P<label>[^\]\n]+)\]\((?P<url>[^)\s]+)\))"
)


def _style_inline(text: Text, line: str, offset: int) -> None:
    for m in _INLINE.finditer(line):
        start, end = m.start() + offset, m.end() + offset
        if m.group("code"):
            ticks = len(m.group("ticks"))
            text.stylize(DELIMITER, start, start + ticks)
            text.stylize(CODE, start + ticks, end - ticks)
            text.stylize(DELIMITER, end - ticks, end)
        elif m.group("strong"):
            text.stylize(DELIMITER, start, start + 2)
            text.stylize(STRONG, start + 2, end - 2)
            text.stylize(DELIMITER, end - 2, end)
        elif m.group("em"):
            text.stylize(DELIMITER, start, start + 1)
            text.stylize(EMPHASIS, start + 1, end - 1)
            text.stylize(DELIMITER, end - 1, end)
        elif m.group("link"):
            label_end = start + 1 + len(m.group("label"))
            text.stylize(DELIMITER, start, start + 1)
            text.stylize(LINK, start + 1, label_end)
            text.stylize(DELIMITER, label_end, end)


def markdown_text(source: str) -> Text:
    """Markdown styled in place: the result's plain text is exactly `safe_text(source)`.

    Nothing is re-flowed, dropped or interpreted as HTML; only styles are added.
    """
    safe = safe_text(source, multiline=True)
    text = Text(safe)
    fence: str | None = None
    pos = 0
    for line in safe.split("\n"):
        start = pos
        end = pos + len(line)
        pos = end + 1
        if fence is not None:
            if line.lstrip().startswith(fence):
                text.stylize(DELIMITER, start, end)
                fence = None
            else:
                text.stylize(CODE, start, end)
            continue
        fenced = _FENCE.match(line)
        if fenced:
            fence = fenced.group(1)[0] * 3
            text.stylize(DELIMITER, start, end)
            continue
        heading = _HEADING.match(line)
        if heading:
            text.stylize(HEADING, start, end)
            text.stylize(DELIMITER, start, start + len(heading.group(1)))
            continue
        quote = _QUOTE.match(line)
        if quote:
            text.stylize(QUOTE, start, end)
            text.stylize(DELIMITER, start, start + len(quote.group(1)))
        bullet = _BULLET.match(line)
        if bullet:
            marker = start + len(bullet.group(1))
            text.stylize(Style(bold=True), marker, marker + len(bullet.group(2)))
        _style_inline(text, line, start)
    return text
