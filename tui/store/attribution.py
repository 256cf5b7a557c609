"""Where a turn's runtime key and inference id come from in its metadata.

The same walk as the backfill rules in `tui.store.gojson` (first key that yields a value;
strings trimmed, maps probed, other scalars formatted), but it also says *which* key and
*what shape* gave the value, so a screen can label it truthfully.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tui.store import gojson

# Shapes of the value found under the metadata key.
SHAPE_STRING = "string"
SHAPE_MAP = "map"
SHAPE_SCALAR = "scalar"
SHAPE_NONE = "none"  # no key yields a value
SHAPE_MALFORMED = "malformed"  # the metadata JSON does not decode (Go would skip the row)


@dataclass(frozen=True)
class Attribution:
    """What the metadata rules give for one column, and where in the metadata it is."""

    value: str  # what the rules give ("" when nothing)
    key: str | None  # top-level metadata key the value came from
    shape: str  # SHAPE_* constant
    field_path: tuple[str, ...] = ()  # for a map: the probed fields, outermost first

    def describe(self) -> str:
        """`geppetto.runtime@v1 (map field runtime_key)`, `runtime (string)`, `none`."""
        if self.shape == SHAPE_MALFORMED:
            return "metadata is not valid JSON"
        if self.key is None:
            return "no metadata key gives a value"
        if self.shape == SHAPE_MAP:
            return f"{self.key} (map field {'.'.join(self.field_path)})"
        return f"{self.key} ({self.shape})"


NOTHING = Attribution("", None, SHAPE_NONE)
MALFORMED = Attribution("", None, SHAPE_MALFORMED)


def _probe(value: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    return ((k, value[k]) for k in gojson.PROBE_KEYS if k in value)


def _map_value(value: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    """Go's recursive map probing (iterative), with the path of fields it took."""
    done = ("", None)
    stack: list[tuple[tuple[str, ...], Iterator[tuple[str, Any]]]] = [((), _probe(value))]
    while stack:
        path, children = stack[-1]
        name, child = next(children, done)
        if name == "" and child is None:
            stack.pop()
        elif isinstance(child, dict):
            stack.append(((*path, name), _probe(child)))
        else:
            s = gojson.scalar_string(child)
            if s:
                return s, (*path, name)
    return "", ()


def attribute(meta: dict[str, Any] | None, keys: tuple[str, ...]) -> Attribution:
    """The first of `keys` in `meta` that yields a value, with its shape (Go's rules)."""
    if meta is None:
        return MALFORMED
    for key in keys:
        if key not in meta:
            continue
        value = meta[key]
        if isinstance(value, dict):
            s, path = _map_value(value)
            if s:
                return Attribution(s, key, SHAPE_MAP, path)
            continue
        s = gojson.scalar_string(value)
        if s:
            return Attribution(s, key, SHAPE_STRING if isinstance(value, str) else SHAPE_SCALAR)
    return NOTHING


def runtime_attribution(meta: dict[str, Any] | None) -> Attribution:
    """Where the runtime key comes from: geppetto.runtime@v1, runtime or runtime_key."""
    return attribute(meta, gojson.RUNTIME_KEYS)


def inference_attribution(meta: dict[str, Any] | None) -> Attribution:
    """Where the inference id comes from: geppetto.inference_id@v1 or inference_id."""
    return attribute(meta, gojson.INFERENCE_KEYS)
