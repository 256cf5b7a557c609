"""What the main screen says about an opened store: wording from the open's result."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import builders as b
from tests.sync_store import open_store
from tui import presenter
from tui.store.models import Era, MigrationReport, Notice, NoticeKind, Opened, OpenMode


def opened(**kwargs: object) -> Opened:
    base: dict[str, object] = {
        "path": "/data/turns.db",
        "read_path": "/data/turns.db",
        "mode": OpenMode.NONE,
        "schema_before": Era.GP26,
        "schema_after": Era.GP26,
        "report": MigrationReport(applied=False, steps=()),
    }
    base.update(kwargs)
    return Opened(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("n", "word", "expected"),
    [
        (0, "turn", "0 turns"),
        (1, "turn", "1 turn"),
        (2, "row", "2 rows"),
        (1234, "turn", "1,234 turns"),
    ],
)
def test_plural(n: int, word: str, expected: str) -> None:
    assert presenter.plural(n, word) == expected


def test_a_backfill_of_one_turn_says_so_in_plain_words() -> None:
    """Not "migrated in place (gp26 → gp26)", not "1 rows"."""
    report = MigrationReport(
        applied=True,
        steps=("backfill runtime_key/inference_id on 1 turns",),
        backfilled_runtime_key=1,
        malformed_metadata_rows=1,
    )
    text = presenter.notice_text(opened(mode=OpenMode.IN_PLACE, report=report))
    assert text == "updated: backfilled 1 runtime key, 1 row with malformed metadata"
    assert "gp26 → gp26" not in text


def test_an_era_change_is_named_in_the_title_and_the_notice() -> None:
    report = MigrationReport(
        applied=True, steps=("x",), backfilled_runtime_key=9, backfilled_inference_id=3
    )
    o = opened(mode=OpenMode.IN_PLACE, schema_before=Era.ERA2_NORMALIZED, report=report)
    assert presenter.title_text("t.db", o) == "t.db · era2-normalized → gp26"
    assert presenter.notice_text(o) == (
        "migrated in place: backfilled 9 runtime keys and 3 inference ids"
    )


def test_no_banner_unless_the_open_was_read_only_even_with_read_only_words_in_notices() -> None:
    """The banner comes from `Opened.read_only`, never from words in notices or paths."""
    o = opened(
        path="/data/read-only/turns.db",
        notices=(Notice(NoticeKind.LOCK_WAIT, "read-only? waiting up to 5 s"),),
        lock_wait_s=1.2,
        mode=OpenMode.IN_PLACE,
        report=MigrationReport(applied=True, steps=("x",), backfilled_runtime_key=1),
    )
    assert presenter.banner_text(o) is None
    assert "waited 1.2 s for another writer's lock" in (presenter.notice_text(o) or "")


def test_one_banner_for_a_forced_read_only_open() -> None:
    o = opened(
        read_only=True,
        mode=OpenMode.OVERLAY,
        notices=(
            Notice(NoticeKind.READ_ONLY_FORCED, "the file or its folder is not writable"),
            Notice(NoticeKind.OVERLAY, "read-only: the GP-26 backfill is derived in memory"),
        ),
    )
    banner = presenter.banner_text(o)
    assert banner is not None and banner.count("READ-ONLY") == 1
    assert "not writable" in banner and "derived in memory" in banner
    assert "read-only" not in (presenter.notice_text(o) or "").lower()


def test_conversation_count_with_timeline_only_conversations() -> None:
    assert presenter.conversations_count(6, 8) == (
        "6 conversations · 8 more only in the timeline store"
    )
    assert presenter.conversations_count(1, 0) == "1 conversation"


def test_real_opens_are_worded_from_their_results(tmp_path: Path) -> None:
    """An era-2 file opened in place, then read-only after migration, then an empty file."""
    path = b.build_era2(tmp_path / "t.db", b.standard_scenario())
    store = open_store(path)
    try:
        assert store.opened is not None
        first = presenter.notice_text(store.opened)
        assert first is not None and first.startswith(
            "migrated in place: backfilled 9 runtime keys"
        )
        assert presenter.banner_text(store.opened) is None
    finally:
        store.close()
    again = open_store(path, read_only=True)
    try:
        assert again.opened is not None and again.opened.mode == OpenMode.NONE
        assert presenter.banner_text(again.opened) == (
            f"READ-ONLY · {path} is never written · nothing to migrate"
        )
    finally:
        again.close()
    empty = open_store(b.build_empty_file(tmp_path / "e.db"))
    try:
        assert empty.opened is not None
        assert presenter.notice_text(empty.opened) == "empty database (0 bytes): no conversations"
    finally:
        empty.close()


def test_an_overlay_says_what_was_derived_and_that_nothing_was_written() -> None:
    report = MigrationReport(
        applied=False, steps=("x",), backfilled_runtime_key=1, unknown_runtime_turns=2
    )
    o = opened(
        mode=OpenMode.OVERLAY,
        read_only=True,
        schema_before=Era.ERA2_NORMALIZED,
        report=report,
    )
    assert presenter.title_text("t.db", o) == "t.db · era2-normalized, read as gp26"
    assert presenter.notice_text(o) == (
        "derived in memory, not written: 1 runtime key, 2 turns of unknown runtime"
    )
