"""Build real SQLite turns databases of every schema era from one scenario description.

Everything here uses only the standard library and PyYAML; nothing is imported from
``tui`` so the fixtures stay an independent description of what the Go writers leave on
disk (see ``/work/shared/docs/turns-db.md``). Modules: ``specs`` (the scenario
description), ``eras`` (one writer per era), ``faults`` (damaged and future files),
``scenarios`` (the standard scenario) and ``bulk`` (the benchmarks' data).

A scenario is a tuple of :class:`ConversationSpec`. Every builder takes a path that must
not exist yet (except :func:`build_timeline`), writes the file, closes its connections and
leaves no ``-wal``/``-shm``/``-journal`` file behind (except ``build_gp26(keep_wal=True)``,
whose whole point is to leave a ``-wal``).
"""

from tests.builders.bulk import *  # noqa: F403
from tests.builders.eras import *  # noqa: F403
from tests.builders.faults import *  # noqa: F403
from tests.builders.scenarios import *  # noqa: F403
from tests.builders.specs import *  # noqa: F403
