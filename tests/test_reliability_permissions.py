"""Reliability with WAL files present, read-only folders and missing permissions.

Read-only folders are entered as an unprivileged user (``setpriv`` when the suite runs as
root, since root ignores permissions): the file, its side files and the folder listing stay
exactly as they were.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests import builders as b
from tests.test_reliability import (
    assert_one_line_error,
    assert_untouched,
    cli,
    conv_ids,
    file_state,
    listing,
    public_dir,
    text,
    to_wal,
)
from tui.store.models import Era

__all__ = ["public_dir"]  # the fixture, shared


# --------------------------------------------------------------------------- 3. WAL present

WAL_BUILDS: dict[str, Callable[[Path], Path]] = {
    # the standard scenario still needs a backfill: read-only mode derives it in memory
    "needs-backfill": lambda p: b.build_gp26(p, b.standard_scenario(), keep_wal=True),
    # every runtime stored: read-only mode reads the file in place through the WAL
    "up-to-date": lambda p: b.build_gp26(p, b.bulk_scenario(4, 3, 4), keep_wal=True),
}


def _wal_only_conv(path: Path) -> str:
    """The conversation whose rows are only in the -wal (the builder's last one).

    Works on copies: opening the file itself, even read-only and as root, would create its
    -shm (root ignores the read-only folder) and spoil the case under test.
    """
    work = Path(tempfile.mkdtemp())
    try:
        main_only = work / "main-only.db"
        with_wal = work / "with-wal.db"
        shutil.copyfile(path, main_only)
        shutil.copyfile(path, with_wal)
        shutil.copyfile(str(path) + "-wal", str(with_wal) + "-wal")
        sets = []
        for copy in (main_only, with_wal):
            conn = sqlite3.connect(copy)
            try:
                sets.append({r[0] for r in conn.execute("SELECT DISTINCT conv_id FROM turns")})
            finally:
                conn.close()
    finally:
        shutil.rmtree(work)
    (only,) = sets[1] - sets[0]
    return str(only)


@pytest.mark.parametrize("kind", list(WAL_BUILDS))
def test_wal_only_turns_are_shown(kind: str, tmp_path: Path) -> None:
    path = WAL_BUILDS[kind](tmp_path / "w.db")
    assert Path(str(path) + "-wal").stat().st_size > 0
    only = _wal_only_conv(path)

    before = file_state(path)
    names = listing(path.parent)
    res = cli("dump", str(path), "--read-only")
    assert res.returncode == 0, text(res)[1]
    doc = json.loads(res.stdout)
    assert only in conv_ids(doc)
    # Read-only: the backfill is derived in memory (no private copy), nothing written.
    assert doc["database"]["mode"] == ("overlay" if kind == "needs-backfill" else "none")
    assert_untouched(path, before, "(--read-only)")
    assert before["-wal"] is not None and file_state(path)["-wal"] == before["-wal"]
    assert listing(path.parent) == names

    res = cli("dump", str(path))
    assert res.returncode == 0, text(res)[1]
    assert only in conv_ids(json.loads(res.stdout))


def _read_only_folder(public_dir: Path, build: Callable[[Path], Path], keep_shm: bool) -> Path:
    folder = public_dir / "ro"
    folder.mkdir()
    path = build(folder / "w.db")
    if not keep_shm:
        os.remove(str(path) + "-shm")
    for f in folder.iterdir():
        f.chmod(0o444)
    folder.chmod(0o555)
    return path


@pytest.mark.parametrize("keep_shm", [False, True], ids=["no-shm", "with-shm"])
@pytest.mark.parametrize("kind", list(WAL_BUILDS))
def test_wal_in_read_only_folder(kind: str, keep_shm: bool, public_dir: Path) -> None:
    """A db + -wal copied off a server into a folder we cannot write (no -shm at all)."""
    path = _read_only_folder(public_dir, WAL_BUILDS[kind], keep_shm)
    only = _wal_only_conv(path)
    before = file_state(path)
    names = listing(path.parent)
    assert (before["-shm"] is not None) == keep_shm
    for extra in ([], ["--read-only"]):
        res = cli("dump", str(path), *extra, user=True)
        out, err = text(res)
        assert res.returncode == 0, err
        doc = json.loads(out)
        assert only in conv_ids(doc), (extra, conv_ids(doc))
        if not extra or doc["database"]["mode"] != "none":
            # Forced read-only, a backfill derived in memory or a private copy: said so.
            assert doc["database"]["notices"], "read-only mode must say so"
        else:  # --read-only asked, and the file is read in place as it is: nothing to say
            assert kind == "up-to-date" and keep_shm, (kind, keep_shm)
        assert file_state(path) == before
        assert listing(path.parent) == names
    res = cli("migrate", str(path), "--dry-run", user=True)
    assert res.returncode == 0, text(res)[1]
    assert file_state(path) == before


# --------------------------------------------------------------------------- 4. permissions


@pytest.mark.parametrize(
    "layout",
    ["ro-file", "ro-folder", "ro-file-wal-mode", "ro-folder-wal-mode"],
)
@pytest.mark.parametrize("builder", ["era2", "gp26-up-to-date"])
def test_unwritable_falls_back_to_read_only_by_itself(
    layout: str, builder: str, public_dir: Path
) -> None:
    folder = public_dir / "data"
    folder.mkdir()
    if builder == "era2":
        path = b.build_era2(folder / "t.db", b.standard_scenario())
    else:
        path = b.build_gp26(folder / "t.db", b.bulk_scenario(3, 3, 3))
    if layout.endswith("wal-mode"):
        to_wal(path)  # header in WAL mode, no -wal / -shm beside it (closed cleanly)
    path.chmod(0o444)
    folder.chmod(0o555 if layout.startswith("ro-folder") else 0o777)
    before = file_state(path)
    names = listing(folder)
    for command in (["dump", str(path)], ["migrate", str(path)]):
        res = cli(*command, user=True)
        out, err = text(res)
        assert res.returncode == 0, err
        assert "not writable: opened read-only" in err, err
        assert_untouched(path, before, str(command))
        if layout.startswith("ro-folder"):
            assert listing(folder) == names
        if command[0] == "dump":
            doc = json.loads(out)
            # eras 2-4: read in place (the backfill derived in memory), no private copy;
            # only a WAL-mode file in a folder that cannot hold its -wal / -shm is copied.
            if layout == "ro-folder-wal-mode":
                expected = "copy"
            else:
                expected = "overlay" if builder == "era2" else "none"
            assert doc["database"]["mode"] == expected, (layout, builder, err)
            assert doc["database"]["schema_after"] == Era.GP26.value
            assert len(doc["conversations"]) == 3


@pytest.mark.parametrize("what", ["file", "folder"])
@pytest.mark.parametrize("command", [["dump"], ["dump", "--read-only"], ["migrate"]])
def test_no_permission_is_exit_5_as_any_user(
    what: str, command: list[str], public_dir: Path
) -> None:
    """Works as root too: the command runs as an unprivileged user (setpriv)."""
    folder = public_dir / "secret"
    folder.mkdir()
    path = b.build_era2(folder / "t.db", b.standard_scenario())
    if what == "file":
        path.chmod(0o000)
    else:
        folder.chmod(0o000)
    try:
        res = cli(command[0], str(path), *command[1:], user=True)
    finally:
        folder.chmod(0o755)
        path.chmod(0o644)
    line = assert_one_line_error(res, path, 5)
    assert "permission denied" in line
    assert listing(folder) == ["t.db"]
