"""Blocks of a snapshot rendered by kind, and the turn metadata panel.

Every block has two views, toggled for the whole screen: *rendered* (text by kind, an
llm_text's Markdown styled in place without losing a character, tool arguments and
results as indented JSON) and *exact* (the payload's text exactly as stored, then the
payload and the block metadata as indented JSON). Both show database text only through
`safe_text` in Rich `Text`, never as markup.

No widget here: a `BlockModel` gives a block's header and body as `Part`s (styled text
runs) that the snapshot view (`tui.widgets.snapshot_view`) lays out as lines and draws a
visible line at a time. Very large text is cut at `TEXT_LIMIT` characters with a "press
e to expand" line; expanded, the whole text is one plain part, so a block of megabytes
never freezes the screen.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Group, RenderableType
from rich.highlighter import JSONHighlighter
from rich.table import Table
from rich.text import Text

from tui.formatting import safe_text, short_id
from tui.provenance import turn_provenance
from tui.store import gojson
from tui.store.attribution import Attribution
from tui.store.records import DERIVED_INFERENCE, DERIVED_RUNTIME, Block, TurnRecord
from tui.widgets.block_text import (
    is_blank_key,
    markdown_text,
    stored_note,
    tool_error,
    visible_blank,
)

TEXT_LIMIT = 20_000
RAW_BLOCK_LIMIT = 20_000  # characters of one block's payload in the raw view
RAW_TOTAL_LIMIT = 1_000_000  # characters of block payloads in the raw view, all blocks
KNOWN_KINDS = ("user", "llm_text", "tool_call", "tool_use", "system", "reasoning")

OK_MARK = "✓ ok"
ERROR_MARK = "✗ ERROR"

_json_highlighter = JSONHighlighter()


def parse_json(text: str) -> Any:
    """Decode JSON for display; undecodable text comes back as the string itself."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


def dump_json(value: Any) -> str:
    """Indented JSON of a decoded value (its repr when it cannot be dumped)."""
    try:
        return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)
    except (TypeError, ValueError, RecursionError):
        return repr(value)


def pretty_json(value: Any, limit: int | None = None) -> Text:
    """Indented, highlighted, safe JSON text of a value."""
    dumped = dump_json(value)
    if limit is not None and len(dumped) > limit:
        dumped = dumped[:limit]
    text = Text(safe_text(dumped, multiline=True))
    return _json_highlighter(text)


def stored_json(stored: str, limit: int | None = None) -> Text:
    """A stored JSON column pretty-printed, or exactly as stored when it does not decode."""
    value = parse_json(stored)
    if isinstance(value, str) and value == stored:
        shown = stored if limit is None else stored[:limit]
        return Text(safe_text(shown, multiline=True))
    return pretty_json(value, limit)


def more_line(remaining: int) -> Text:
    """The line under a cut text."""
    return Text(f"… {remaining:,} more characters — press e to expand", style="bold")


# Style names of the parts of a block (component classes of the snapshot view).
BODY = ""
LABEL = "label"
EXACT = "exact"
DIM = "dim"
ERROR = "error"
META = "meta"
MORE = "more"


@dataclass(frozen=True)
class Part:
    """A run of lines of one block: styled `Text` (or a plain `str`, for megabytes) drawn
    in the snapshot view's style `style` (one of the names above)."""

    text: Text | str
    style: str = BODY

    @property
    def plain(self) -> str:
        return self.text if isinstance(self.text, str) else self.text.plain


class BlockModel:
    """One block: a header line and a body chosen by kind (or the exact payload).

    Plain Python (no widget): the snapshot view lays out its `header()` and `parts()` as
    lines. `exact` switches to the exact view; `expanded` shows cut text in full.
    """

    def __init__(self, block: Block, *, exact: bool = False, expanded: bool = False) -> None:
        self.block = block
        self.kind = block.kind if block.kind in KNOWN_KINDS else "other"
        self.payload: Any = parse_json(block.payload_json)
        self.error: Any | None = tool_error(self.payload) if self.kind == "tool_use" else None
        self.exact = exact
        self.expanded = expanded
        self.full_text: str | None = None  # the first text cut at TEXT_LIMIT, if any

    @property
    def failed(self) -> bool:
        """True for a tool result whose payload has a non-blank error."""
        return self.error is not None

    @property
    def css_kind(self) -> str:
        """`tool-use`, `llm-text`, ...: the kind as a style-name suffix."""
        return self.kind.replace("_", "-")

    def exact_text(self) -> str:
        """The block's exact stored text: the payload's `text` when it is a string, else
        the payload JSON exactly as stored."""
        text = self.payload.get("text") if isinstance(self.payload, dict) else None
        return text if isinstance(text, str) else self.block.payload_json

    # -- header and body -------------------------------------------------------------

    def header(self) -> Text:
        b = self.block
        header = Text()
        header.append(f"#{b.ordinal} ", style="dim")
        header.append(safe_text(b.kind or "?", 24), style="bold")
        if b.role:
            header.append(" · ", style="dim")
            header.append(safe_text(b.role, 24))
        payload = self.payload if isinstance(self.payload, dict) else {}
        if self.kind == "tool_call" and "name" in payload:
            header.append(" · ", style="dim")
            header.append(safe_text(str(payload.get("name")), 60), style="bold")
        if self.kind in ("tool_call", "tool_use") and "id" in payload:
            header.append(" · call ", style="dim")
            header.append(safe_text(str(payload.get("id")), 40))
        if self.kind == "tool_use":
            header.append(" · ", style="dim")
            if self.failed:
                header.append(ERROR_MARK, style="bold reverse")
            else:
                header.append(OK_MARK, style="bold")
        if self.exact:
            header.append(" · exact", style="dim italic")
        if b.block_id:
            header.append("  id ", style="dim")
            header.append(short_id(b.block_id, 16), style="dim")
        return header

    def parts(self) -> list[Part]:
        """The body: rendered by kind, or the exact view."""
        self.full_text = None
        if self.exact:
            return list(self._exact_body())
        out = list(self._body())
        meta = parse_json(self.block.metadata_json)
        if meta and meta != "{}":
            line = Text("metadata ", style="dim")
            line.append(
                safe_text(json.dumps(meta, ensure_ascii=False, sort_keys=True), 300), style="dim"
            )
            out.append(Part(line, META))
        return out

    def _text_body(self, text: str, *, markdown: bool = False, style: str = BODY) -> Iterator[Part]:
        if len(text) > TEXT_LIMIT:
            if self.full_text is None:
                self.full_text = text
            if self.expanded:  # megabytes: plain text, drawn a line at a time
                yield Part(safe_text(text, multiline=True), style)
                return
            shown = text[:TEXT_LIMIT]
            yield Part(
                markdown_text(shown) if markdown else safe_text(shown, multiline=True), style
            )
            yield Part(more_line(len(text) - TEXT_LIMIT), MORE)
            return
        yield Part(markdown_text(text) if markdown else safe_text(text, multiline=True), style)

    def _value_body(self, value: Any, style: str = BODY) -> Iterator[Part]:
        if value == "":
            yield Part(Text('"" (empty)', style="dim italic"), style)
            return
        if isinstance(value, str):
            yield from self._text_body(value, style=style)
            return
        dumped = dump_json(value)
        if len(dumped) > TEXT_LIMIT:
            yield from self._text_body(dumped, style=style)
            return
        yield Part(pretty_json(value), style)

    def _body(self) -> Iterator[Part]:
        payload = self.payload
        if not isinstance(payload, dict):
            yield from self._value_body(payload)
            return
        text = payload.get("text")
        if self.kind == "llm_text" and isinstance(text, str):
            yield from self._text_body(text, markdown=True)
        elif self.kind in ("user", "system") and isinstance(text, str):
            yield from self._text_body(text)
        elif self.kind == "reasoning":
            if isinstance(text, str) and text:
                yield from self._text_body(text, style=DIM)
            rest = {k: v for k, v in payload.items() if k != "text"}
            if "encrypted_content" in rest:
                size = len(str(rest.pop("encrypted_content")))
                yield Part(
                    Text(f"[encrypted reasoning, {size:,} characters]", style="dim italic"), DIM
                )
            if rest:
                yield from self._value_body(rest, DIM)
        elif self.kind == "tool_call":
            args = payload.get("args", {})
            if isinstance(args, str):
                args = parse_json(args)
            yield from self._value_body(args)
        elif self.kind == "tool_use":
            if self.failed:
                yield Part(Text("error", style="bold"), LABEL)
                yield from self._value_body(self.error, ERROR)
            if "result" in payload:
                if self.failed:
                    yield Part(Text("result", style="bold"), LABEL)
                yield from self._value_body(payload.get("result"))
        else:
            yield from self._value_body(payload)
        images = payload.get("images")
        if isinstance(images, list) and images:
            yield Part(Text(f"[{len(images)} image(s)]", style="dim"))

    def _exact_body(self) -> Iterator[Part]:
        """The payload's text exactly as stored, then payload and metadata as JSON."""
        payload = self.payload
        text = payload.get("text") if isinstance(payload, dict) else None
        if isinstance(text, str):
            yield Part(Text("text (exact)", style="bold"), LABEL)
            yield from self._text_body(text, style=EXACT)
        yield Part(Text("payload (JSON)", style="bold"), LABEL)
        if isinstance(payload, str) and payload == self.block.payload_json:
            yield from self._text_body(payload, style=EXACT)  # does not decode
        else:
            yield from self._json_text_body(payload)
        meta = parse_json(self.block.metadata_json)
        yield Part(Text("block metadata (JSON)", style="bold"), LABEL)
        if isinstance(meta, str) and meta == self.block.metadata_json:
            yield from self._text_body(meta, style=EXACT)
        else:
            yield from self._json_text_body(meta)

    def _json_text_body(self, value: Any) -> Iterator[Part]:
        dumped = dump_json(value)
        if len(dumped) > TEXT_LIMIT:
            yield from self._text_body(dumped, style=EXACT)
        else:
            yield Part(pretty_json(value), EXACT)


# -- the metadata panel ---------------------------------------------------------------


def _scalar(meta: dict[str, Any], key: str) -> Text:
    value = meta.get(key)
    if value is None:
        return Text("—", style="dim")
    if isinstance(value, str):
        return Text(safe_text(value, 80))
    return Text(safe_text(json.dumps(value, ensure_ascii=False), 80))


def shown_key(value: str, limit: int = 60) -> Text:
    """A runtime key or inference id as shown: blanks visible, empty as unknown."""
    if value == "":
        return Text("∅ unknown", style="dim italic")
    if is_blank_key(value):
        text = Text(visible_blank(value, limit), style="bold")
        text.append("  blank = unknown", style="dim italic")
        return text
    return Text(visible_blank(value, limit))


def source_text(attribution: Attribution) -> Text:
    """`planner` from runtime (string) / no metadata key gives a value."""
    if not attribution.value:
        return Text(attribution.describe(), style="dim italic")
    text = Text(safe_text(attribution.value, 60), style="bold")
    text.append(" from ", style="dim")
    text.append(safe_text(attribution.describe(), 80))
    return text


def _attribution_rows(
    table: Table, label: str, stored: str, attribution: Attribution, derived: bool, column: str
) -> None:
    what = "runtime" if column == DERIVED_RUNTIME else "inference id"
    table.add_row(label, shown_key(stored))
    table.add_row(
        "  in metadata",
        source_text(attribution),
    )
    note = stored_note(stored, attribution.value, derived=derived, column=column, what=what)
    style = "bold" if is_blank_key(stored) or derived else ""
    table.add_row("  stored", Text(note, style=style))


def metadata_summary(turn: TurnRecord) -> RenderableType:
    """Runtime and inference id with where they came from; model, usage, stop reason."""
    meta = gojson.decode_metadata(turn.metadata_json, float64=False)
    table = Table.grid(padding=(0, 2))
    table.add_column(style="dim", no_wrap=True)
    table.add_column(overflow="fold")  # long keys break, never end in an ellipsis
    _attribution_rows(
        table,
        "runtime (this turn)",
        turn.runtime_key,
        turn.runtime_from,
        DERIVED_RUNTIME in turn.derived,
        DERIVED_RUNTIME,
    )
    _attribution_rows(
        table,
        "inference id",
        turn.inference_id,
        turn.inference_from,
        DERIVED_INFERENCE in turn.derived,
        DERIVED_INFERENCE,
    )
    prov = turn_provenance(turn)
    for label, p in (("runtime source", prov.runtime_key), ("inference source", prov.inference_id)):
        line = Text(safe_text(p.describe(), 200))
        if p.disagrees:
            line.append("  ⚠ stored and metadata disagree", style="bold")
        table.add_row(label, line)
    if meta is None:
        table.add_row("metadata", Text("not valid JSON (see raw: r)", style="bold"))
        return table
    table.add_row("model", _scalar(meta, "geppetto.model@v1"))
    table.add_row("provider", _scalar(meta, "geppetto.provider@v1"))
    usage = meta.get("geppetto.usage@v1")
    if isinstance(usage, dict):
        parts = [f"{safe_text(str(k), 30)} {safe_text(str(v), 20)}" for k, v in usage.items()]
        table.add_row("usage", Text(" · ".join(parts)))
    else:
        table.add_row("usage", _scalar(meta, "geppetto.usage@v1"))
    table.add_row("stop reason", _scalar(meta, "geppetto.stop_reason@v1"))
    renderables: list[RenderableType] = [table, Text("")]
    key = turn.runtime_from.key
    if key is not None and key in meta:
        title = Text("runtime attribution: ", style="bold")
        title.append(safe_text(turn.runtime_from.describe(), 80), style="bold")
        renderables.append(title)
        renderables.append(pretty_json(meta[key], 4000))
    else:
        present = [k for k in gojson.RUNTIME_KEYS if k in meta]
        if present:
            title = Text("runtime attribution: ", style="bold")
            title.append(safe_text(present[0], 40), style="bold")
            title.append(" (gives no value)", style="bold")
            renderables.append(title)
            renderables.append(pretty_json(meta[present[0]], 4000))
        else:
            renderables.append(Text("runtime attribution", style="bold"))
            keys = ", ".join(gojson.RUNTIME_KEYS)
            renderables.append(Text(f"none in the turn metadata ({keys})", style="dim italic"))
    return Group(*renderables)


# -- the raw view ---------------------------------------------------------------------


def _block_heading(block: Block) -> Text:
    heading = Text(f"block #{block.ordinal} ", style="bold")
    heading.append(safe_text(block.kind or "?", 24), style="bold")
    if block.role:
        heading.append(f" · {safe_text(block.role, 24)}")
    heading.append(" · id ", style="dim")
    heading.append(safe_text(block.block_id, 80))
    if block.content_hash:
        heading.append(" · hash ", style="dim")
        heading.append(short_id(block.content_hash, 16))
    return heading


def _raw_blocks(blocks: Sequence[Block]) -> Iterable[Part]:
    budget = RAW_TOTAL_LIMIT
    for index, block in enumerate(blocks):
        if budget <= 0:
            yield Part(
                Text(
                    f"… {len(blocks) - index:,} more blocks not shown in the raw view",
                    style="dim italic",
                )
            )
            return
        yield Part("")
        yield Part(_block_heading(block))
        for label, stored in (
            ("payload", block.payload_json),
            ("block metadata", block.metadata_json),
        ):
            yield Part(Text(f"{label} (raw JSON)", style="dim"), LABEL)
            shown = stored_json(stored, RAW_BLOCK_LIMIT)
            yield Part(shown)
            budget -= len(shown.plain)
            if len(stored) > RAW_BLOCK_LIMIT:
                yield Part(
                    Text(
                        f"… cut in the raw view ({len(stored):,} characters stored); "
                        "the exact view (x) then e shows all",
                        style="dim italic",
                    )
                )


def raw_metadata(
    metadata_json: str,
    data_json: str,
    blocks: Sequence[Block] = (),
    raw_payload: str | None = None,
) -> list[Part]:
    """The raw turn metadata and data, then every block's payload and metadata."""
    parts: list[Part] = [Part(Text("turn metadata (raw)", style="bold"))]
    parts.append(Part(stored_json(metadata_json, 200_000)))
    parts.append(Part(""))
    parts.append(Part(Text("turn data (raw)", style="bold")))
    parts.append(Part(stored_json(data_json, 200_000)))
    if blocks:
        parts.append(Part(""))
        parts.append(Part(Text(f"blocks of this snapshot (raw, {len(blocks)})", style="bold")))
        parts.extend(_raw_blocks(blocks))
    if raw_payload is not None:
        parts.append(Part(""))
        parts.append(Part(Text("snapshot payload as stored (YAML)", style="bold")))
        parts.append(Part(safe_text(raw_payload[:200_000], multiline=True)))
    return parts


# The widget per block is gone (the snapshot view draws every block); the old name stays
# importable so tests written against it fail on what they check, not on import.
BlockView = BlockModel
