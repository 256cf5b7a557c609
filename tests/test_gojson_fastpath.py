"""The orjson fast path of decode_metadata decides exactly as the exact (Go) path."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tui.store import gojson

numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(
        [
            "-0",
            "-0.0",
            "1e400",
            "-1e400",
            "1e308",
            "1.7976931348623159e308",
            "1e-400",
            "9007199254740993",
            "1" + "0" * 400,
            "NaN",
            "Infinity",
        ]
    ),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.text(max_size=12),
    st.sampled_from([" planner ", "\u00a0x\u3000", "\x1fkeep", "", "\ud800", "é🙂"]),
)
values = st.recursive(
    st.one_of(scalars, numbers.map(lambda n: ("num", n))),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(
                ["runtime_key", "key", "slug", "profile", "profile_key", "inference_id", "x"]
            ),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=8,
)
top_keys = st.sampled_from(
    [
        "geppetto.runtime@v1",
        "runtime",
        "runtime_key",
        "geppetto.inference_id@v1",
        "inference_id",
        "other",
    ]
)


def render(value: Any) -> str:
    """JSON text, with number literals spliced in verbatim (so 1e400 and NaN can appear)."""
    if isinstance(value, tuple):
        return str(value[1])
    if isinstance(value, list):
        return "[" + ",".join(render(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{render(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


@st.composite
def documents(draw: st.DrawFn) -> str:
    pairs = draw(st.lists(st.tuples(top_keys, values), max_size=5))  # duplicates allowed
    body = "{" + ",".join(f"{json.dumps(k)}:{render(v)}" for k, v in pairs) + "}"
    wrap = draw(st.sampled_from(["{}", " {} ", "\n{}\t", "\ufeff{}", "{}x", "[{}]", "\x0c{}"]))
    return wrap.replace("{}", body)


def decide(text: str, fast: bool) -> tuple[bool, str, str]:
    gojson.FAST_DECODE = fast
    try:
        meta = gojson.decode_metadata(text, float64=False)
    finally:
        gojson.FAST_DECODE = True
    if meta is None:
        return False, "", ""
    return True, gojson.extract_runtime_key(meta), gojson.extract_inference_id(meta)


@settings(max_examples=600, deadline=None)
@given(documents())
def test_fast_path_equals_exact_path(text: str) -> None:
    exact = decide(text, fast=False)
    assert decide(text, fast=True) == exact
    # And the float64 contract path agrees too.
    meta = gojson.decode_metadata(text)
    assert (meta is not None) == exact[0]
    if meta is not None:
        assert (gojson.extract_runtime_key(meta), gojson.extract_inference_id(meta)) == exact[1:]


def test_number_values_print_as_float64_on_both_paths() -> None:
    text = '{"runtime": 1000000, "inference_id": -0}'
    assert decide(text, fast=True) == decide(text, fast=False) == (True, "1e+06", "-0")


def decide_bytes(raw: bytes, fast: bool) -> tuple[bool, str, str]:
    gojson.FAST_DECODE = fast
    try:
        meta = gojson.decode_metadata(raw, float64=False)
    finally:
        gojson.FAST_DECODE = True
    if meta is None:
        return False, "", ""
    return True, gojson.extract_runtime_key(meta), gojson.extract_inference_id(meta)


@settings(max_examples=400, deadline=None)
@given(documents(), st.sampled_from([b"", b"\xff", b"\xc3", b"\xed\xa0\x80"]))
def test_bytes_input_equals_text_input(text: str, junk: bytes) -> None:
    """The backfill reads metadata as raw bytes: same decisions, invalid UTF-8 included."""
    raw = text.encode("utf-8", "surrogatepass")
    if junk:
        raw = raw.replace(b'"x"', b'"x' + junk + b'"', 1)
    exact = decide_bytes(raw, fast=False)
    assert decide_bytes(raw, fast=True) == exact
    if not junk:
        assert exact == decide(raw.decode("utf-8", "surrogateescape"), fast=False)
