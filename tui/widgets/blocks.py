"""Blocks of a snapshot rendered by kind, and the turn metadata panel.

Very large text is cut at `TEXT_LIMIT` characters with a "press e to expand" line; the
expanded text goes into a `LargeText` view, which draws only the visible lines, so a
block of megabytes never freezes the screen.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group, RenderableType
from rich.highlighter import JSONHighlighter
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from tui.formatting import safe_text, short_id
from tui.store.gojson import decode_metadata
from tui.store.records import Block
from tui.widgets.large_text import LargeText

TEXT_LIMIT = 20_000
KNOWN_KINDS = ("user", "llm_text", "tool_call", "tool_use", "system", "reasoning")

_json_highlighter = JSONHighlighter()


def parse_json(text: str) -> Any:
    """Decode JSON for display; undecodable text comes back as the string itself."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


def pretty_json(value: Any, limit: int | None = None) -> Text:
    """Indented, highlighted, safe JSON text of a value."""
    try:
        dumped = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)
    except (TypeError, ValueError, RecursionError):
        dumped = repr(value)
    if limit is not None and len(dumped) > limit:
        dumped = dumped[:limit]
    text = Text(safe_text(dumped, multiline=True))
    return _json_highlighter(text)


def more_line(remaining: int) -> Text:
    """The line under a cut text."""
    return Text(f"… {remaining:,} more characters — press e to expand", style="bold")


class BlockView(Vertical):
    """One block: a header line and a body chosen by kind."""

    def __init__(self, block: Block) -> None:
        kind = block.kind if block.kind in KNOWN_KINDS else "other"
        super().__init__(classes=f"block -{kind.replace('_', '-')}")
        self.block = block
        self.kind = kind
        self.payload: Any = parse_json(block.payload_json)
        self.full_text: str | None = None  # set when the body was cut
        self.expanded = False

    # -- header and body -------------------------------------------------------------

    def _header(self) -> Text:
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
        if self.kind == "tool_use" and "error" in payload:
            header.append(" · ERROR", style="bold")
        if b.block_id:
            header.append("  id ", style="dim")
            header.append(short_id(b.block_id, 16), style="dim")
        return header

    def compose(self) -> ComposeResult:
        yield Static(self._header(), classes="block-header")
        yield from self._body()
        meta = parse_json(self.block.metadata_json)
        if meta and meta != "{}":
            line = Text("metadata ", style="dim")
            line.append(
                safe_text(json.dumps(meta, ensure_ascii=False, sort_keys=True), 300), style="dim"
            )
            yield Static(line, classes="block-meta")

    def _text_body(self, text: str, *, markdown: bool = False, classes: str = "") -> ComposeResult:
        from textual.widgets import Markdown  # markdown-it loads on the first detail screen

        if len(text) > TEXT_LIMIT:
            self.full_text = text
            preview = text[:TEXT_LIMIT]
            if markdown:
                yield Markdown(safe_text(preview, multiline=True), classes="block-body")
            else:
                yield Static(
                    Text(safe_text(preview, multiline=True)), classes=f"block-body {classes}"
                )
            yield Static(more_line(len(text) - TEXT_LIMIT), classes="block-more")
            return
        if markdown:
            yield Markdown(safe_text(text, multiline=True), classes="block-body")
        else:
            yield Static(Text(safe_text(text, multiline=True)), classes=f"block-body {classes}")

    def _value_body(self, value: Any, classes: str = "") -> ComposeResult:
        if isinstance(value, str):
            yield from self._text_body(value, classes=classes)
            return
        dumped = json.dumps(value, indent=2, ensure_ascii=False)
        if len(dumped) > TEXT_LIMIT:
            yield from self._text_body(dumped, classes=classes)
            return
        yield Static(pretty_json(value), classes=f"block-body {classes}")

    def _body(self) -> ComposeResult:
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
                yield from self._text_body(text, classes="-dim")
            rest = {k: v for k, v in payload.items() if k != "text"}
            if "encrypted_content" in rest:
                size = len(str(rest.pop("encrypted_content")))
                yield Static(
                    Text(f"[encrypted reasoning, {size:,} characters]", style="dim italic"),
                    classes="block-body -dim",
                )
            if rest:
                yield from self._value_body(rest, classes="-dim")
        elif self.kind == "tool_call":
            args = payload.get("args", {})
            if isinstance(args, str):
                args = parse_json(args)
            yield from self._value_body(args)
        elif self.kind == "tool_use":
            if payload.get("error") not in (None, ""):
                yield from self._value_body(payload.get("error"), classes="-error")
            if "result" in payload:
                yield from self._value_body(payload.get("result"))
        else:
            yield from self._value_body(payload)
        images = payload.get("images")
        if isinstance(images, list) and images:
            yield Static(Text(f"[{len(images)} image(s)]", style="dim"), classes="block-body")

    # -- expansion -------------------------------------------------------------------

    async def expand_text(self) -> bool:
        """Replace the cut preview with the whole text in a read-only TextArea."""
        if self.full_text is None or self.expanded:
            return False
        self.expanded = True
        for widget in list(self.query(".block-body")) + list(self.query(".block-more")):
            await widget.remove()
        view = LargeText(safe_text(self.full_text, multiline=True), classes="block-expanded")
        await self.mount(view, after=self.query_one(".block-header"))
        return True


def _scalar(meta: dict[str, Any], key: str) -> Text:
    value = meta.get(key)
    if value is None:
        return Text("—", style="dim")
    if isinstance(value, str):
        return Text(safe_text(value, 80))
    return Text(safe_text(json.dumps(value, ensure_ascii=False), 80))


def metadata_summary(metadata_json: str, runtime_key: str, inference_id: str) -> RenderableType:
    """Model, provider, usage, stop reason, inference id and the runtime attribution map."""
    decoded = parse_json(metadata_json) if decode_metadata(metadata_json) is not None else None
    meta = decoded if isinstance(decoded, dict) else None
    table = Table.grid(padding=(0, 2))
    table.add_column(style="dim", no_wrap=True)
    table.add_column()
    table.add_row(
        "runtime (this turn)",
        Text(safe_text(runtime_key, 60))
        if runtime_key.strip()
        else Text("∅ unknown", style="dim italic"),
    )
    table.add_row(
        "inference id",
        Text(safe_text(inference_id, 60)) if inference_id else Text("—", style="dim"),
    )
    if meta is None:
        table.add_row("metadata", Text("not valid JSON (see raw)", style="bold"))
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
    attribution = meta.get("geppetto.runtime@v1")
    if attribution is None:
        for legacy in ("runtime", "runtime_key"):
            if legacy in meta:
                attribution = {legacy: meta[legacy]}
                break
    renderables: list[RenderableType] = [table]
    title = Text("runtime attribution (geppetto.runtime@v1)", style="bold")
    renderables.append(Text(""))
    renderables.append(title)
    if attribution is None:
        renderables.append(Text("none in the turn metadata", style="dim italic"))
    else:
        renderables.append(pretty_json(attribution, 4000))
    return Group(*renderables)


def raw_metadata(metadata_json: str, data_json: str) -> RenderableType:
    """The raw turn metadata and data as indented JSON."""
    parts: list[RenderableType] = [Text("turn metadata (raw)", style="bold")]
    meta = parse_json(metadata_json)
    parts.append(
        pretty_json(meta, 200_000)
        if not isinstance(meta, str)
        else Text(safe_text(meta, 200_000, multiline=True))
    )
    parts.append(Text(""))
    parts.append(Text("turn data (raw)", style="bold"))
    data = parse_json(data_json)
    parts.append(
        pretty_json(data, 200_000)
        if not isinstance(data, str)
        else Text(safe_text(data, 200_000, multiline=True))
    )
    return Group(*parts)
