"""Layering rules of the UI code, checked on the source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TUI = Path(__file__).resolve().parents[1] / "tui"
UI_FILES = sorted([*TUI.glob("screens/*.py"), *TUI.glob("widgets/*.py")])


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", UI_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_widgets_and_screens_touch_no_sql(path: Path) -> None:
    modules = imported_modules(path)
    assert not {m for m in modules if m.split(".")[0] in {"sqlite3", "aiosqlite"}}
    assert not {m for m in modules if m.startswith(("tui.store.queries", "tui.store.opener"))}
    source = path.read_text(encoding="utf-8")
    for keyword in ("SELECT ", "INSERT ", "UPDATE ", "PRAGMA "):
        assert keyword not in source


@pytest.mark.parametrize("name", ["demo.py", "formatting.py", "domain.py"])
def test_non_ui_modules_do_not_import_textual(name: str) -> None:
    modules = imported_modules(TUI / name)
    assert not {m for m in modules if m.split(".")[0] == "textual"}


def test_all_css_is_in_the_tcss_file() -> None:
    sources = [*UI_FILES, TUI / "app.py"]
    inline = [
        p.name for p in sources if "DEFAULT_CSS" in p.read_text() or "\n    CSS =" in p.read_text()
    ]
    assert inline == []  # everything is in app.tcss
    tcss = (TUI / "app.tcss").read_text()
    assert "#" not in "".join(
        line.split(":", 1)[1] for line in tcss.splitlines() if ":" in line and "{" not in line
    ), "use theme variables, not hex colours"
