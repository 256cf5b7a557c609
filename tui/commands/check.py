"""`turns-tui check PATH [--json]`: every anomaly of a turns file; exit 1 when any.

Exit 0 when the file is clean, 1 when it has anomalies (usable in CI, like a linter);
errors opening it keep the CLI's codes (3 missing or not a database, 4 locked, ...).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from tui.check import CheckReport, gather, render_text, report_json
from tui.cli import _write_stdout
from tui.commands._store import parser, run
from tui.store.base import Store
from tui.store.models import Opened

EXIT_ANOMALIES = 1


def main(argv: Sequence[str]) -> int:
    p = parser("turns-tui check", "List every anomaly of a turns database (exit 1 when any).")
    p.add_argument("--json", action="store_true", help="print the anomalies as JSON")
    args = p.parse_args(argv)

    async def work(_opened: Opened, store: Store) -> CheckReport:
        return await gather(store)

    result = run(args, work)
    if isinstance(result, int):
        return result
    text = json.dumps(report_json(result), ensure_ascii=True) + "\n" if args.json else None
    _write_stdout(text if text is not None else render_text(result))
    return 0 if result.clean else EXIT_ANOMALIES
