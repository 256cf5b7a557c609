"""`#current-runtime`: the selected conversation's current runtime, large, with its source."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from tui.domain import ConversationView, CurrentRuntime, RuntimeSource, latest_known_index
from tui.formatting import safe_text
from tui.widgets.cells import SOURCE_WORDS, fit, short_id_cells, visible_key

SESSION_ID_WIDTH = 14  # cells of one session id in the sessions line


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _line(text: Text) -> Text:
    """One line, elided with `…` where it is wider than the panel."""
    text.no_wrap = True
    text.overflow = "ellipsis"
    return text


def sessions_text(sessions: tuple[str, ...]) -> Text:
    """`session sess-a`, or `sessions: sess-a, sess-b` for a resumed conversation."""
    text = Text()
    if len(sessions) <= 1:
        text.append("session ", style="dim")
        text.append(short_id_cells(sessions[0], SESSION_ID_WIDTH) if sessions else "—")
        return _line(text)
    text.append("sessions: ", style="dim")
    for i, session in enumerate(sessions):
        if i:
            text.append(", ", style="dim")
        text.append(short_id_cells(session, SESSION_ID_WIDTH))
    return _line(text)


def status_text(view: ConversationView) -> Text:
    """The timeline store's `status` and `last_error` of the conversation, where set."""
    text = Text()
    if view.status.strip():
        text.append("status ", style="dim")
        text.append(safe_text(view.status), style="bold")
    if view.last_error.strip():
        if text.plain:
            text.append("\n")
        text.append("last error ", style="dim")
        text.append(safe_text(view.last_error), style="bold red")
    return _line(text)


class CurrentRuntimePanel(Vertical):
    """Shows the conversation-level runtime pointer; never the history of its turns."""

    def __init__(self, *, id: str = "current-runtime") -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.current: CurrentRuntime | None = None
        self.view: ConversationView | None = None

    @property
    def runtime_key(self) -> str | None:
        """The key shown (empty string when the conversation has none)."""
        return None if self.current is None else self.current.key

    def compose(self) -> ComposeResult:
        yield Static(Text("CURRENT RUNTIME"), id="current-runtime-caption")
        yield Static(Text(""), id="current-runtime-sessions")
        yield Static(Text("—"), id="current-runtime-key")
        yield Static(Text(""), id="current-runtime-source")
        yield Static(Text(""), id="current-runtime-facts")
        yield Static(Text(""), id="current-runtime-status")

    def show(self, view: ConversationView | None) -> None:
        """Show a conversation's current runtime and counts (or an empty state)."""
        self.view = view
        sessions_w = self.query_one("#current-runtime-sessions", Static)
        key_w = self.query_one("#current-runtime-key", Static)
        source_w = self.query_one("#current-runtime-source", Static)
        facts_w = self.query_one("#current-runtime-facts", Static)
        status_w = self.query_one("#current-runtime-status", Static)
        if view is None:
            self.current = None
            sessions_w.update(Text(""))
            sessions_w.tooltip = None
            key_w.update(Text("—"))
            key_w.set_class(True, "-none")
            source_w.update(Text("no conversation selected", style="dim"))
            facts_w.update(Text(""))
            status_w.update(Text(""))
            status_w.tooltip = None
            return
        current = view.current
        self.current = current
        sessions_w.update(sessions_text(view.sessions))
        sessions_w.tooltip = (
            "\n".join(safe_text(s) for s in view.sessions) if len(view.sessions) > 1 else None
        )
        none = current.source == RuntimeSource.NONE
        key_w.set_class(none, "-none")
        key_w.update(_line(Text("∅ none" if none else fit(visible_key(current.key), 40))))
        source = Text(SOURCE_WORDS[current.source], style="bold" if not none else "dim")
        index = latest_known_index([t.turn.runtime_key for t in view.turns])
        known = view.turns[index] if index is not None else None
        latest = known.turn.runtime_key if known is not None else None
        if (
            current.source == RuntimeSource.TIMELINE
            and latest is not None
            and latest != current.key
        ):
            source.append("\nlatest turn ran ", style="dim")
            source.append(fit(visible_key(latest), 30), style="italic")
        if (
            current.source == RuntimeSource.LATEST_TURN
            and known is not None
            and known is not view.turns[-1]
        ):  # the latest turn has no runtime: say which turn the key is from
            source.append(
                f"\nfrom turn {known.number} ({view.turns[-1].number} has none)", style="dim"
            )
        source_w.update(_line(source))
        facts = Text()
        facts.append(_plural(len(view.turns), "turn", "turns"))
        facts.append(" · ", style="dim")
        facts.append(_plural(view.switch_count, "switch", "switches"))
        facts.append("\n")
        anomalies = view.anomaly_count
        facts.append(_plural(anomalies, "anomaly", "anomalies"), style="bold" if anomalies else "")
        facts_w.update(_line(facts))
        status = status_text(view)
        status_w.update(status)
        status_w.display = bool(status.plain)
        status_w.tooltip = status.plain or None
