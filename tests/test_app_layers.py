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


NON_UI = sorted(
    [TUI / "demo.py", TUI / "formatting.py", TUI / "domain.py", TUI / "dump.py", TUI / "cli.py"]
    + list(TUI.glob("store/*.py")),
)


@pytest.mark.parametrize("path", NON_UI, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_non_ui_modules_do_not_import_textual(path: Path) -> None:
    """The data package, the domain and the headless CLI never import textual (the CLI's
    app command imports tui.app lazily, inside the function)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top_level: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            top_level.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            top_level.add(node.module)
    everything = imported_modules(path)
    assert not {m for m in top_level if m.split(".")[0] == "textual" or m == "tui.app"}
    if path.parent.name == "store":
        assert not {m for m in everything if m.split(".")[0] == "textual" or m == "tui.app"}


def test_headless_commands_do_not_load_textual(tmp_path: Path) -> None:
    """`dump` runs without importing textual (start-up stays light)."""
    import subprocess
    import sys

    from tests import builders as b

    path = b.build_gp26(tmp_path / "t.db", b.standard_scenario())
    code = (
        "import sys; from tui.cli import main; rc = main(['dump', sys.argv[1]]); "
        "sys.stderr.write('TEXTUAL_LOADED' if 'textual' in sys.modules else 'NO_TEXTUAL'); "
        "sys.exit(rc)"
    )
    res = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 0, res.stderr
    assert "NO_TEXTUAL" in res.stderr


def test_widgets_never_bypass_the_store() -> None:
    """Screens and widgets reach data only through the app's messages (no store import)."""
    for path in UI_FILES:
        modules = imported_modules(path)
        assert not {
            m for m in modules if m.startswith(("tui.store.sqlite_store", "tui.store.reader"))
        }


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


def test_the_fixture_builders_stay_independent_of_tui() -> None:
    """tests/builders is the oracle: it describes what the Go writers leave on disk
    without importing the code under test."""
    folder = Path(__file__).resolve().parent / "builders"
    for path in sorted(folder.glob("*.py")):
        modules = imported_modules(path)
        assert not {m for m in modules if m.split(".")[0] == "tui"}, path.name
