"""`#current-runtime`: the selected conversation's current runtime, large, with its source."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from tui.domain import ConversationView, CurrentRuntime, RuntimeSource, is_unknown
from tui.formatting import safe_text, short_id
from tui.widgets.cells import SOURCE_WORDS


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


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
        yield Static(Text("—"), id="current-runtime-key")
        yield Static(Text(""), id="current-runtime-source")
        yield Static(Text(""), id="current-runtime-facts")

    def show(self, view: ConversationView | None) -> None:
        """Show a conversation's current runtime and counts (or an empty state)."""
        self.view = view
        key_w = self.query_one("#current-runtime-key", Static)
        source_w = self.query_one("#current-runtime-source", Static)
        facts_w = self.query_one("#current-runtime-facts", Static)
        if view is None:
            self.current = None
            key_w.update(Text("—"))
            key_w.set_class(True, "-none")
            source_w.update(Text("no conversation selected", style="dim"))
            facts_w.update(Text(""))
            return
        current = view.current
        self.current = current
        none = current.source == RuntimeSource.NONE
        key_w.set_class(none, "-none")
        key_w.update(Text("∅ none" if none else safe_text(current.key, 40)))
        source = Text(SOURCE_WORDS[current.source], style="bold" if not none else "dim")
        latest = next(
            (
                t.turn.runtime_key
                for t in reversed(view.turns)
                if not is_unknown(t.turn.runtime_key)
            ),
            None,
        )
        if (
            current.source == RuntimeSource.TIMELINE
            and latest is not None
            and latest != current.key
        ):
            source.append("\nlatest turn ran ", style="dim")
            source.append(safe_text(latest, 30), style="italic")
        source_w.update(source)
        facts = Text()
        facts.append("session ", style="dim")
        facts.append(short_id(view.session_id, 14) or "—")
        facts.append("\n")
        facts.append(_plural(len(view.turns), "turn", "turns"))
        facts.append(" · ", style="dim")
        facts.append(_plural(view.switch_count, "switch", "switches"))
        facts.append("\n")
        anomalies = view.anomaly_count
        facts.append(_plural(anomalies, "anomaly", "anomalies"), style="bold" if anomalies else "")
        facts_w.update(facts)
