"""The cyclic garbage collector and the app's long-lived objects (no textual import).

A Textual app holds some 80,000 objects that live as long as it does (modules, classes,
the stylesheet, the screens' widgets). Every full collection walks them all: 40-80 ms on
this project's benchmark machine in which no key is handled, and the allocations of a
180-block turn detail set one off. `freeze_long_lived` (`gc.freeze`) moves what is alive
at a moment when little else is (start-up, the first screen, the kept turn detail's
mount) out of the collector's reach, so a full collection walks only what came since.
"""

from __future__ import annotations

import gc


def freeze_long_lived() -> None:
    """Move every object alive now out of the cyclic collector's reach (`gc.freeze`).

    What is frozen and later becomes cyclic garbage stays allocated: once for each of
    the few moments this is called at (objects alive then, garbage not yet collected
    included: ~10,000 small objects when the turn detail first mounts)."""
    gc.freeze()
