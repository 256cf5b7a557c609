"""Fault injectors: files a writer or a newer version could leave (truncated, future schema)."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from tests.builders.eras import (
    _open_existing,
    build_gp26,
)
from tests.builders.specs import (
    ConversationSpec,
)


def build_truncated(path: Path, convs: Sequence[ConversationSpec]) -> Path:
    """A GP-26 file cut to 60% of its size (a damaged copy)."""
    build_gp26(path, convs)
    conn = sqlite3.connect(path)
    try:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    finally:
        conn.close()
    if pages <= 8:
        raise ValueError(f"scenario too small to truncate meaningfully ({pages} pages)")
    size = path.stat().st_size
    os.truncate(path, int(size * 0.6))
    return path


def add_future_schema(path: Path) -> Path:
    """Add what a newer writer might: a ``turn_annotations`` table (2 rows) and a
    ``future_col`` column on ``turns`` (any era with a ``turns`` table)."""
    conn = _open_existing(path)
    try:
        conn.execute("BEGIN")
        ids = conn.execute("SELECT DISTINCT conv_id, turn_id FROM turns LIMIT 2").fetchall()
        while len(ids) < 2:
            ids.append(("conv-none", f"turn-none-{len(ids)}"))
        conn.execute("ALTER TABLE turns ADD COLUMN future_col TEXT NOT NULL DEFAULT 'kept'")
        conn.execute("CREATE TABLE turn_annotations (conv_id TEXT, turn_id TEXT, note TEXT)")
        conn.executemany(
            "INSERT INTO turn_annotations VALUES (?, ?, ?)",
            [(c, t, f"note {i}") for i, (c, t) in enumerate(ids, 1)],
        )
        conn.execute("COMMIT")
    finally:
        conn.close()
    return path


