"""One virtualised view of a snapshot: every block's header and body as wrapped lines.

The turn detail used to mount a widget per block (a 400-block snapshot took seconds to
lay out). This view holds a list of `Section`s (a block, the snapshot header, the "this
turn" marker, the metadata panel, the raw view, a diff) and draws only the visible lines,
like Toolong's log view and `LargeText`: `render_line` maps a screen row to a section and
one of its rows, renders that row and keeps the strip in an LRU cache.

Each section is laid out for the current width once (its rows: which line of which part,
from which character to which), and again only when the width changes; the rows of a
megabyte text are a few integers per row, and its lines are cut, styled and turned into
segments only when they scroll into view. Wrapping is *lossless*: a line breaks after a
space where it can, else at the width, and the rows of a line joined give the line back
character for character (nothing is dropped at a break, nothing is re-flowed).
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from rich.cells import cell_len, get_character_cell_size
from rich.console import Console, RenderableType
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.color import Color, ColorParseError
from textual.geometry import Size
from textual.strip import Strip

from tui.widgets.blocks import BlockModel, Part
from tui.widgets.line_view import LineView

GUTTER = 2  # a coloured bar and a space before every row of a block

# Style name -> (text colour variable, its opacity, background variable, its opacity, bold,
# italic): theme variables, resolved against the view's background.
STYLES: dict[str, tuple[str, float, str, float, bool, bool]] = {
    "header": ("text-muted", 1, "", 0, False, False),
    "header-error": ("error", 1, "", 0, True, False),
    "label": ("text-muted", 1, "", 0, False, False),
    "exact": ("", 0, "boost", 1, False, False),
    "dim": ("text-muted", 1, "", 0, False, True),
    "error": ("error", 1, "", 0, True, False),
    "meta": ("text-disabled", 1, "", 0, False, False),
    "more": ("warning", 1, "", 0, False, False),
    "marker": ("accent", 1, "", 0, False, False),
    "note": ("text-muted", 1, "", 0, False, False),
    "tone-error": ("", 0, "error", 0.1, False, False),
    "tone-marked": ("", 0, "accent", 0.15, False, False),
    "bar-user": ("primary", 1, "", 0, False, False),
    "bar-llm-text": ("success", 1, "", 0, False, False),
    "bar-tool-call": ("accent", 1, "", 0, False, False),
    "bar-tool-use": ("secondary", 1, "", 0, False, False),
    "bar-tool-use-ok": ("success", 1, "", 0, False, False),
    "bar-tool-use-error": ("error", 1, "", 0, False, False),
    "bar-reasoning": ("panel-lighten-2", 1, "", 0, False, False),
    "bar-system": ("warning", 1, "", 0, False, False),
    "bar-other": ("foreground-muted", 1, "", 0, False, False),
    "bar-panel": ("accent", 0.5, "", 0, False, False),
    "bar-diff": ("secondary", 1, "", 0, False, False),
    "diff-added": ("success", 1, "", 0, False, False),
    "diff-removed": ("error", 1, "", 0, False, False),
    "diff-hunk": ("accent", 1, "", 0, False, False),
    "diff-title": ("", 0, "", 0, True, False),
}
TAB = 4
_DIM = Style(dim=True)


def wrap_line(line: str, width: int) -> list[tuple[int, int]]:
    """(start, end) character ranges of the rows of one line at `width` cells.

    A row breaks after its last space when it has one, else at the width; every
    character is in exactly one row, so the rows joined are the line.
    """
    width = max(width, 1)
    n = len(line)
    if n <= width and (line.isascii() or cell_len(line) <= width):
        return [(0, n)]
    rows: list[tuple[int, int]] = []
    start = 0
    if line.isascii():
        while n - start > width:
            end = start + width
            space = line.rfind(" ", start + 1, end)
            if space > start:
                end = space + 1
            rows.append((start, end))
            start = end
        rows.append((start, n))
        return rows
    pos = cells = 0
    space = -1
    while pos < n:
        w = get_character_cell_size(line[pos])
        if cells + w > width and pos > start:
            end = space + 1 if space > start else pos
            rows.append((start, end))
            start = end
            cells = cell_len(line[start:pos])
            space = -1
            continue
        if line[pos] == " ":
            space = pos
        cells += w
        pos += 1
    rows.append((start, n))
    return rows


@dataclass(eq=False)
class Section:
    """A run of rows of the view: text parts (or one small Rich renderable).

    `bar` names the colour of the left bar (a block's kind, "" for none); `tone` a style
    laid under every row (a failed tool result); `history` dims the section (blocks from
    earlier turns); `gap` blank rows follow it; `marked` highlights it (the block a find
    jumped to: a heavy bar and a tinted background).
    """

    key: str
    parts: list[Part] = field(default_factory=list)
    renderable: RenderableType | None = None
    bar: str = ""
    tone: str = ""
    history: bool = False
    gap: int = 0
    block: BlockModel | None = None
    marked: bool = False
    # layout, for `_width`: per row (part, line, start, end); lines of each part
    _width: int = -1
    _rows: array[int] = field(default_factory=lambda: array("q"))
    _lines: list[list[str]] = field(default_factory=list)
    _styled: dict[int, list[Text]] = field(default_factory=dict)
    _strips: list[Strip] = field(default_factory=list)

    @property
    def plain(self) -> str:
        """The section's text (its parts' text, one after another)."""
        return "\n".join(p.plain for p in self.parts)

    @property
    def gutter(self) -> int:
        return GUTTER if self.bar else 0

    def height(self) -> int:
        """Rows at the laid-out width, gap included."""
        body = len(self._strips) if self.renderable is not None else len(self._rows) // 4
        return body + self.gap

    def invalidate(self) -> None:
        self._width = -1

    def _part_lines(self, index: int) -> list[str]:
        while len(self._lines) <= index:
            part = self.parts[len(self._lines)]
            if isinstance(part.text, str):
                lines = part.text.split("\n")
                lines = [ln.expandtabs(TAB) if "\t" in ln else ln for ln in lines]
            else:
                styled = list(part.text.split("\n", allow_blank=True))
                for ln in styled:
                    if "\t" in ln.plain:
                        ln.expand_tabs(TAB)
                self._styled[len(self._lines)] = styled
                lines = [ln.plain for ln in styled]
            self._lines.append(lines)
        return self._lines[index]

    def layout(self, width: int, console: Console | None) -> None:
        """Lay the section out for `width` cells (a no-op when it already is). Text is laid
        out without a console (so in any thread); a renderable needs the view's."""
        if width == self._width:
            return
        inner = max(width - self.gutter, 1)
        if self.renderable is not None:
            if console is None:
                return  # left for the view (its console) to lay out
            self._width = width
            options = console.options.update(width=inner, height=None, highlight=False)
            lines = console.render_lines(self.renderable, options, pad=False)
            self._strips = [Strip(line) for line in lines]
            return
        self._width = width
        rows = array("q")
        for p in range(len(self.parts)):
            for li, line in enumerate(self._part_lines(p)):
                for start, end in wrap_line(line, inner):
                    rows.extend((p, li, start, end))
        self._rows = rows

    def row_text(self, row: int) -> str:
        """The plain text of one laid-out row (no bar)."""
        if self.renderable is not None:
            return self._strips[row].text if row < len(self._strips) else ""
        if row * 4 >= len(self._rows):
            return ""
        p, li, start, end = self._rows[row * 4 : row * 4 + 4]
        return self._lines[p][li][start:end]

    def part_rows(self, part: int) -> list[tuple[int, str]]:
        """(line index, text) of every laid-out row of one part, in order."""
        out: list[tuple[int, str]] = []
        rows = self._rows
        for r in range(0, len(rows), 4):
            if rows[r] == part:
                out.append((rows[r + 1], self._lines[part][rows[r + 1]][rows[r + 2] : rows[r + 3]]))
        return out

    def row_segments(self, row: int, console: Console) -> tuple[list[Segment], str]:
        """Segments of one row's content and the name of its part's style."""
        if self.renderable is not None:
            if row >= len(self._strips):
                return [], ""
            return list(self._strips[row]), ""
        if row * 4 >= len(self._rows):
            return [], ""
        p, li, start, end = self._rows[row * 4 : row * 4 + 4]
        style = self.parts[p].style
        styled = self._styled.get(p)
        if styled is None:
            return [Segment(self._lines[p][li][start:end])], style
        piece = styled[li][start:end]
        return list(piece.render(console)), style


class SnapshotView(LineView, can_focus=True):
    """The blocks of a snapshot (or its raw view, or a diff) as one scrollable document."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "scroll_down", "Down", show=False, id="blocks.down"),
        Binding("k", "scroll_up", "Up", show=False, id="blocks.up"),
        Binding("g", "scroll_home", "Top", show=False, id="blocks.top"),
        Binding("G", "scroll_end", "Bottom", show=False, id="blocks.bottom"),
    ]

    BARS: ClassVar[dict[str, str]] = {"heavy": "┃", "": "▎"}

    def __init__(self, *, id: str | None = None, classes: str = "") -> None:  # noqa: A002
        super().__init__(id=id, classes=classes)
        self.sections: list[Section] = []
        self._starts: list[int] = []  # first row of each section
        self._total = 0
        self._cache: LRUCache[tuple[int, int, int], Strip] = LRUCache(1024)
        self._styles: dict[str, Style] = {}
        self._laid_width = -1
        self._width_check_pending = False
        self._pending_y: float | None = None  # a scroll waiting for the new virtual size

    # -- content -----------------------------------------------------------------------

    def set_sections(self, sections: Sequence[Section], width: int | None = None) -> None:
        """Show `sections`, laid out now for the current width; or for `width` when they
        were laid out for it beforehand and it is the width the view has now or will have
        once its scrollbar shows (so they are not laid out twice)."""
        self.sections = list(sections)
        self._laid_width = -1
        # Before its first layout the view has no width to check `width` against: it is
        # kept, and the view's first Resize lays out again if it is not the width it got.
        if self.size.width and width not in (self.content_width(), self.width_when_scrolling()):
            width = None
        self._relayout(width)

    def replace_section(self, key: str, section: Section) -> None:
        """Swap the section called `key` for `section`, keeping the scroll position."""
        for i, old in enumerate(self.sections):
            if old.key == key:
                self.sections[i] = section
                break
        else:
            return
        self._laid_width = -1
        self._relayout()

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)

    def section_start(self, key: str) -> int | None:
        """The first row of the section called `key`."""
        for i, s in enumerate(self.sections):
            if s.key == key:
                return self._starts[i] if i < len(self._starts) else None
        return None

    def scroll_to_section(self, key: str) -> None:
        """Put the section called `key` at the top of the view."""
        start = self.section_start(key)
        if start is not None:
            self.scroll_y_to(start)

    def scroll_y_to(self, y: float) -> None:
        """Scroll to row `y` now, and again once a new virtual size has been laid out.

        Until then `y` is the row a new layout keeps at the top (a scrollbar that comes
        with the new content changes the width before the scroll lands)."""
        # force: the scrollbar that new content needs is only shown after the next
        # layout, and until then a plain scroll_to is refused
        self.scroll_to(y=y, animate=False, immediate=True, force=True)
        self._pending_y = y if self.scroll_y != y else None
        # after the layout: land the scroll if it was refused, and move the thumb of a
        # scrollbar that was not shown when the scroll happened (Textual only moves it
        # while it is shown)
        self.call_after_refresh(self._scroll_pending)

    def _scroll_pending(self) -> None:
        y, self._pending_y = self._pending_y, None
        if y is not None:
            self.scroll_to(y=y, animate=False, immediate=True, force=True)
        if self.show_vertical_scrollbar:
            self.vertical_scrollbar.position = self.scroll_y

    # -- the line model ----------------------------------------------------------------

    def content_width(self) -> int:
        """The width sections are laid out at (the scrollbar's column aside)."""
        width = self.scrollable_content_region.width
        return width if width > 0 else max(self.size.width, 1)

    def width_when_scrolling(self) -> int:
        """The width sections will have once a vertical scrollbar shows (a long snapshot:
        laid out for it beforehand, they need no second layout when it appears)."""
        width = self.content_width()
        if not self.show_vertical_scrollbar:
            width -= self.styles.scrollbar_size_vertical
        return max(width, 1)

    def _relayout(self, width: int | None = None) -> None:
        width = width or self.content_width()
        console = self.app.console
        starts: list[int] = []
        total = 0
        for s in self.sections:
            if s._width != width:  # sections laid out beforehand (in a thread) are kept
                s.layout(width, console)
            starts.append(total)
            total += s.height()
        self._starts = starts
        self._total = total
        self._laid_width = width
        self._cache.clear()
        self.virtual_size = Size(width, total)
        self.refresh()

    def on_resize(self) -> None:
        self._check_width()

    def _check_width(self) -> None:
        """Lay out again for a new width, keeping the row at the top of the view."""
        laid = self._laid_width
        if laid == self.content_width():
            return
        top = self._pending_y if self._pending_y is not None else self.scroll_y
        anchor = self.locate(int(top))
        self._relayout()  # sections already laid out for this width keep their layout
        if anchor is not None:
            index, row = anchor
            height = self.sections[index].height()
            self.scroll_y_to(self._starts[index] + min(row, max(height - 1, 0)))

    def _width_changed(self) -> None:
        self._width_check_pending = False
        self._check_width()

    def locate(self, y: int) -> tuple[int, int] | None:
        """(section index, row in it) of document row `y`; None past the end."""
        if y < 0 or y >= self._total or not self._starts:
            return None
        index = bisect_right(self._starts, y) - 1
        return index, y - self._starts[index]

    def lines(self) -> Iterator[str]:
        """The plain text of every row of the document, in order (bars left out)."""
        for s in self.sections:
            body = s.height() - s.gap
            for row in range(body):
                yield s.row_text(row)
            for _ in range(s.gap):
                yield ""

    def section_lines(self, key: str) -> list[str]:
        """The plain text of the rows of one section."""
        s = self.section(key)
        if s is None:
            return []
        return [s.row_text(r) for r in range(s.height() - s.gap)]

    def marked_section(self) -> Section | None:
        """The marked section (the block a find jumped to), if any."""
        return next((s for s in self.sections if s.marked), None)

    def visible_rows(self) -> range:
        """The document rows in view now (scroll offset to the bottom of the region)."""
        top = int(self.scroll_y)
        return range(top, min(top + self.scrollable_content_region.height, self._total))

    def current_section(self) -> Section | None:
        """The block at the top of the view (else the first block below the top)."""
        found = self.locate(int(self.scroll_y))
        if found is None:
            return None
        index = found[0]
        for s in self.sections[index:]:
            if s.block is not None:
                return s
        return None

    # -- drawing -----------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._cache.clear()

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = self._theme_style(name)
        return style

    def _theme_style(self, name: str) -> Style:
        """The Rich style called `name` from the theme's variables (`STYLES`).

        Resolved here rather than through component classes: a widget's component
        classes are styled again every time one is mounted, which costs a detail screen
        more time than drawing all its lines."""
        spec = STYLES.get(name)
        if spec is None:
            return Style()
        variables = self.app.theme_variables
        background = self.background_colors[1]

        def colour(var: str, alpha: float) -> Color:
            value = variables.get(var, "")
            if value.startswith("auto"):  # text-muted and friends: the text, faded
                pct = value.split()[-1].rstrip("%") if " " in value else "100"
                base = Color.parse(variables.get("foreground", "#e0e0e0"))
                return background.blend(base, float(pct) / 100 * alpha)
            try:
                parsed = Color.parse(value)
            except ColorParseError:
                return Color.parse(variables.get("foreground", "#e0e0e0"))
            return background.blend(parsed.with_alpha(1.0), parsed.a * alpha)

        fg, fg_alpha, bg, bg_alpha, bold, italic = spec
        return Style(
            color=colour(fg, fg_alpha).rich_color if fg else None,
            bgcolor=colour(bg, bg_alpha).rich_color if bg else None,
            bold=bold or None,
            italic=italic or None,
        )

    def render_line(self, y: int) -> Strip:
        scroll_y = int(self.scroll_offset.y)
        base, width = self.line_style_and_width()
        if width != self._laid_width and not self._width_check_pending:
            self._width_check_pending = True  # a scrollbar came or went
            self.call_later(self._width_changed)
        found = self.locate(scroll_y + y)
        if found is None:
            return Strip.blank(width, base)
        index, row = found
        key = (index, row, width)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        strip = self._render_row(self.sections[index], row, width, base)
        self._cache[key] = strip
        return strip

    def _render_row(self, s: Section, row: int, width: int, base: Style) -> Strip:
        if s.tone:
            base = base + self._style(f"tone-{s.tone}")
        elif s.marked:
            base = base + self._style("tone-marked")
        segments: list[Segment] = []
        if row >= s.height() - s.gap:  # the blank rows after a section
            return Strip.blank(width, self.line_style_and_width()[0])
        if s.bar:
            heavy = s.bar.endswith("-error") or s.marked
            bar = self.BARS["heavy" if heavy else ""]
            segments.append(Segment(bar + " ", base + self._style(f"bar-{s.bar}")))
        content, style = s.row_segments(row, self.app.console)
        part_style = base + self._style(style) if style else base
        segments.extend(Segment.apply_style(content, part_style))
        strip = Strip(segments).crop_extend(0, width, base)
        if s.history:
            strip = strip.apply_style(_DIM)
        return strip.simplify()
