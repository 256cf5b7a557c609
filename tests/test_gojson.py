"""Tests for tui.store.gojson: Go encoding/json + fmt + strings emulation."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import sys
import unicodedata
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.store.gojson import (
    GO_MAX_NESTING_DEPTH,
    _decode_iterative,
    _Reject,
    canonical_block_hash,
    canonical_block_material,
    decode_metadata,
    extract_inference_id,
    extract_inference_id_v2,
    extract_runtime_key,
    extract_runtime_key_v2,
    go_json_marshal,
    go_sprint,
    go_trim_space,
)

# ---------------------------------------------------------------------------------------------
# decode_metadata
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, {}),
        ("", {}),
        ("  ", {}),
        ("\t\n\r ", {}),
        ("\u00a0", {}),  # NBSP: Go TrimSpace-blank
        ("\u3000\u2028\x0b\x0c\x85", {}),
        ("null", {}),
        (" \n null \t", {}),
        ("{}", {}),
        (' {"a": "b"} ', {"a": "b"}),
        ('{"n": 7}', {"n": 7.0}),
        ('{"n": -0}', {"n": -0.0}),
        ('{"n": 1e-400}', {"n": 0.0}),  # underflow is fine in Go
        ('{"n": 1.7976931348623157e308}', {"n": sys.float_info.max}),
        ('{"n": 9007199254740993}', {"n": 9007199254740992.0}),  # float64 precision
        ('{"a": 1, "a": 2}', {"a": 2.0}),  # duplicate keys: last wins
        ('{"\\u0061\\n": true}', {"a\n": True}),  # escaped key names
        ('{"a": [1, "x", null, false, {"b": []}]}', {"a": [1.0, "x", None, False, {"b": []}]}),
        ('{"s": "\\ud800"}', {"s": "\ufffd"}),  # lone surrogate -> U+FFFD
        ('{"\\udc00x": "\\ud83d\\ude00"}', {"\ufffdx": "\U0001f600"}),
        ('{"s": "\\ud800\\ud800\\udc00"}', {"s": "\ufffd\U00010000"}),
        ('{"s": "\\ud800\\u0041"}', {"s": "\ufffdA"}),
        ('{"s": "\\\\ud800"}', {"s": "\\ud800"}),  # escaped backslash, not an escape
        ('{"s": "[[[{{{"}', {"s": "[[[{{{"}),
        ('{"s": "\x7f"}', {"s": "\x7f"}),  # DEL is not a control character for JSON
        ('{"s": "caf\u00e9 \U0001f600"}', {"s": "caf\u00e9 \U0001f600"}),
    ],
)
def test_decode_metadata_accepts(text: str | None, expected: dict[str, Any]) -> None:
    assert decode_metadata(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "[1]",
        "[]",
        '"x"',
        "1",
        "true",
        "false",
        "NaN",
        '{"a": NaN}',
        '{"a": Infinity}',
        '{"a": [-Infinity]}',
        '{"a": 1e400}',
        '{"a": -1e400}',
        '{"a": {"b": [1, 2, 1e400]}}',
        '{"a": 1' + "0" * 400 + "}",
        '{"a": 1.7976931348623159e308}',  # rounds to +Inf
        "\ufeff{}",  # BOM
        "\ufeff",
        '{"a": 1} x',
        '{"a": 1}{}',
        '{"a": 1},',
        "{",
        '{"a": 1,}',
        '{"a" 1}',
        "{'a': 1}",
        '{"a": 01}',
        '{"a": 1.}',
        '{"a": .5}',
        '{"a": +1}',
        '{"a": 0x10}',
        '{"a": "x\ny"}',  # raw control character in a string
        '{"a": "\x00"}',
        '{"a": "\x1f"}',
        '{"a": "\\x41"}',  # invalid escape
        '{"a": "\\u12"}',
        '{"a": "unterminated}',
        "\x0b{}",  # \v is TrimSpace-space but not JSON whitespace
        "\u00a0{}",
        "{}\u00a0",
        '{"a": tru}',
        '{"a": nul}',
        '{"a": True}',
        '{"a": \u0661}',  # ARABIC-INDIC DIGIT ONE is not a JSON digit
    ],
)
def test_decode_metadata_rejects(text: str) -> None:
    assert decode_metadata(text) is None


def _nested_arrays(depth: int) -> str:
    """An object (depth 1) holding ``depth - 1`` nested arrays."""
    return '{"a":' + "[" * (depth - 1) + "]" * (depth - 1) + "}"


def _nested_objects(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def _array_depth(value: Any) -> int:
    depth = 0
    while isinstance(value, list):
        depth += 1
        value = value[0] if value else None
    return depth


def test_deep_nesting_limit() -> None:
    deepest = decode_metadata(_nested_arrays(GO_MAX_NESTING_DEPTH))
    assert deepest is not None
    assert _array_depth(deepest["a"]) == GO_MAX_NESTING_DEPTH - 1
    assert decode_metadata(_nested_arrays(GO_MAX_NESTING_DEPTH + 1)) is None

    objects = decode_metadata(_nested_objects(GO_MAX_NESTING_DEPTH))
    assert objects is not None
    value: Any = objects
    for _ in range(GO_MAX_NESTING_DEPTH):
        value = value["a"]
    assert value == 1.0
    assert decode_metadata(_nested_objects(GO_MAX_NESTING_DEPTH + 1)) is None


def test_deep_nesting_middle_and_errors() -> None:
    # Past Python's recursion limit but within Go's: decoded by the iterative path.
    mid = decode_metadata('{"x": 1, "a":' + "[" * 5000 + "2" + "]" * 5000 + "}")
    assert mid is not None and mid["x"] == 1.0 and _array_depth(mid["a"]) == 5000
    # Deep documents are still validated: trailing garbage, overflow, NaN.
    assert decode_metadata(_nested_arrays(5000) + "x") is None
    assert decode_metadata('{"a":' + "[" * 5000 + "1e400" + "]" * 5000 + "}") is None
    assert decode_metadata('{"a":' + "[" * 5000 + "NaN" + "]" * 5000 + "}") is None
    assert decode_metadata('{"a":' + "[" * 5000 + "]" * 4999 + "}") is None
    # Many brackets but shallow, and brackets inside strings, are fine.
    wide = decode_metadata('{"a":[' + ",".join(["[]"] * 20000) + "]}")
    assert wide is not None and len(wide["a"]) == 20000
    text = decode_metadata(json.dumps({"a": "[" * 20001}))
    assert text == {"a": "[" * 20001}


def test_deep_values_flow_through_extract_and_marshal() -> None:
    meta = decode_metadata('{"runtime":' + "[" * 9999 + "]" * 9999 + "}")
    assert meta is not None
    assert extract_runtime_key(meta) == "[" * 9999 + "]" * 9999
    assert go_json_marshal(meta) == '{"runtime":' + "[" * 9999 + "]" * 9999 + "}"
    deep_profile: Any = {"slug": "deep"}
    for _ in range(5000):
        deep_profile = {"profile": deep_profile}
    assert extract_runtime_key({"runtime": deep_profile}) == "deep"


@pytest.mark.parametrize(
    "text",
    [
        '{"a": [1, 2.5, -0, 1e-400, "s\\u00e9\\ud800", {"b": null, "b": true}], "c": {}}',
        '  {"x": [[], {}, [[[]]]]}\n',
        '{"a": 1} x',
        '{"a": [1,]}',
        '{"a" : "\\ud83d\\ude00"}',
        "[1]",
        "null",
        "1",
        "",
    ],
)
def test_iterative_decoder_matches_fast_path(text: str) -> None:
    def slow(t: str) -> Any:
        try:
            return ("ok", _decode_iterative(t))
        except (ValueError, _Reject):
            return ("err", None)

    def fast(t: str) -> Any:
        try:
            return ("ok", json.loads(t, parse_int=float, parse_constant=_boom))
        except ValueError:
            return ("err", None)

    assert slow(text) == fast(text)


def _boom(name: str) -> Any:
    raise ValueError(name)


# ---------------------------------------------------------------------------------------------
# go_trim_space
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  a b  ", "a b"),
        ("\t\n\v\f\r x \r\n", "x"),
        ("\u00a0x\u00a0", "x"),
        ("\u3000x\u3000", "x"),
        ("\u0085\u1680\u2000\u200a\u2028\u2029\u202f\u205fx", "x"),
        ("\x1cx\x1f", "\x1cx\x1f"),  # str.strip() would remove these
        ("\u200bx\ufeff", "\u200bx\ufeff"),
        ("\u180ex", "\u180ex"),
        ("", ""),
        (" \u00a0 ", ""),
    ],
)
def test_go_trim_space(text: str, expected: str) -> None:
    assert go_trim_space(text) == expected


def _go_is_space(c: str) -> bool:
    return c in "\t\n\v\f\r \x85\xa0\u2028\u2029" or unicodedata.category(c) == "Zs"


@given(st.text())
def test_go_trim_space_properties(s: str) -> None:
    trimmed = go_trim_space(s)
    assert go_trim_space(trimmed) == trimmed
    assert trimmed in s
    assert not trimmed or (not _go_is_space(trimmed[0]) and not _go_is_space(trimmed[-1]))
    start = s.index(trimmed) if trimmed else len(s)
    assert all(_go_is_space(c) for c in s[:start])
    guarded = "\x1c" + s + "\x1f"
    assert go_trim_space(guarded) == guarded
    assert go_trim_space(" " + guarded + "\u3000") == guarded


# ---------------------------------------------------------------------------------------------
# go_sprint
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1000000.0, "1e+06"),
        (1234567.0, "1.234567e+06"),
        (100.0, "100"),
        (123456.0, "123456"),
        (7.0, "7"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (-0.0, "-0"),
        (0.0, "0"),
        (1.5, "1.5"),
        (-1.5, "-1.5"),
        (1e21, "1e+21"),
        (123456789.0, "1.23456789e+08"),
        (1e20, "1e+20"),
        (3.0e100, "3e+100"),
        (12345678.9, "1.23456789e+07"),
        (0.1, "0.1"),
        (999999.0, "999999"),
        (123456.7, "123456.7"),
        (1e-300, "1e-300"),
        (5e-324, "5e-324"),
        (sys.float_info.max, "1.7976931348623157e+308"),
        (0.000123, "0.000123"),
        (math.inf, "+Inf"),
        (-math.inf, "-Inf"),
        (math.nan, "NaN"),
        ("x y", "x y"),
        ("", ""),
        (True, "true"),
        (False, "false"),
        (None, "<nil>"),
        (42, "42"),
        (["a", "b"], "[a b]"),
        ([], "[]"),
        ([["a"], [], [1.0, None]], "[[a] [] [1 <nil>]]"),
        ({}, "map[]"),
        ({"b": 2.0, "a": "x", "c": None}, "map[a:x b:2 c:<nil>]"),
        ({"z": {"y": [True]}, "\u00e9": 1.0, "B": 1e6}, "map[B:1e+06 z:map[y:[true]] \u00e9:1]"),
    ],
)
def test_go_sprint(value: Any, expected: str) -> None:
    assert go_sprint(value) == expected


def test_go_sprint_sorts_keys_by_utf8_bytes() -> None:
    # U+FF61 sorts before U+10000 in UTF-8 byte order (and in code point order).
    assert go_sprint({"\U00010000": 1.0, "\uff61": 2.0, "a": 3.0}) == (
        "map[a:3 \uff61:2 \U00010000:1]"
    )


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_go_sprint_float_round_trips(x: float) -> None:
    text = go_sprint(x)
    assert float(text) == x
    assert math.copysign(1.0, float(text)) == math.copysign(1.0, x)
    assert "e" in text or abs(x) < 1e6


# ---------------------------------------------------------------------------------------------
# extract_runtime_key / extract_inference_id
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ({}, ""),
        ({"geppetto.runtime@v1": "  planner  "}, "planner"),
        ({"runtime": "a", "runtime_key": "b"}, "a"),
        ({"runtime_key": "b"}, "b"),
        ({"geppetto.runtime@v1": None, "runtime": "fallback"}, "fallback"),
        ({"geppetto.runtime@v1": " \u00a0 ", "runtime_key": "next"}, "next"),
        ({"geppetto.runtime@v1": {"runtime_key": "rk", "key": "k"}}, "rk"),
        ({"geppetto.runtime@v1": {"slug": "s", "key": "k"}}, "k"),
        ({"geppetto.runtime@v1": {"profile": {"slug": "x"}, "profile_key": "pk"}}, "x"),
        ({"geppetto.runtime@v1": {"profile": {"name": "x"}, "profile_key": "pk"}}, "pk"),
        ({"geppetto.runtime@v1": {"inference_id": "abc"}}, "abc"),
        ({"geppetto.runtime@v1": {"runtime_key": " ", "slug": 7.0}}, "7"),
        ({"geppetto.runtime@v1": {"name": "x"}, "runtime": "r"}, "r"),
        ({"geppetto.runtime@v1": {}, "runtime": {"key": None}}, ""),
        ({"runtime": 7.0}, "7"),
        ({"runtime": 1000000.0}, "1e+06"),
        ({"runtime": True}, "true"),
        ({"runtime": False}, "false"),
        ({"runtime": ["a", "b"]}, "[a b]"),
        ({"runtime": [" a "]}, "[ a ]"),
        ({"runtime": []}, "[]"),
        ({"runtime": [None]}, "[<nil>]"),
        ({"runtime": "<nil>"}, "<nil>"),
        ({"runtime": "\x1cx"}, "\x1cx"),
    ],
)
def test_extract_runtime_key(meta: dict[str, Any], expected: str) -> None:
    assert extract_runtime_key(meta) == expected


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ({}, ""),
        ({"geppetto.inference_id@v1": " inf-1 ", "inference_id": "inf-2"}, "inf-1"),
        ({"geppetto.inference_id@v1": "", "inference_id": "inf-2"}, "inf-2"),
        ({"geppetto.inference_id@v1": None, "inference_id": "inf-2"}, "inf-2"),
        ({"inference_id": 12345678.0}, "1.2345678e+07"),
        ({"inference_id": {"inference_id": "nested"}}, "nested"),
        ({"inference_id": {"other": "x"}}, ""),
        ({"runtime": "r"}, ""),
    ],
)
def test_extract_inference_id(meta: dict[str, Any], expected: str) -> None:
    assert extract_inference_id(meta) == expected


def test_extract_from_decoded_metadata() -> None:
    meta = decode_metadata(
        '{"geppetto.runtime@v1": {"profile": {"slug": " planner "}},'
        ' "geppetto.inference_id@v1": 7, "runtime": "ignored"}'
    )
    assert meta is not None
    assert extract_runtime_key(meta) == "planner"
    assert extract_inference_id(meta) == "7"


@pytest.mark.parametrize(
    ("meta", "runtime", "inference"),
    [
        ({"geppetto.runtime@v1": {"runtime_key": " rk "}}, "rk", ""),
        ({"geppetto.runtime@v1": "flat", "runtime": "r"}, "", ""),
        ({"geppetto.runtime@v1": {"key": "k"}}, "", ""),
        ({"geppetto.runtime@v1": {"runtime_key": {"slug": "s"}}}, "map[slug:s]", ""),
        ({"geppetto.runtime@v1": {"runtime_key": None}}, "", ""),
        ({"inference_id": {"inference_id": "x"}}, "", "map[inference_id:x]"),
        ({"geppetto.inference_id@v1": None, "inference_id": 1e6}, "", "1e+06"),
    ],
)
def test_extract_v2_rules(meta: dict[str, Any], runtime: str, inference: str) -> None:
    assert extract_runtime_key_v2(meta) == runtime
    assert extract_inference_id_v2(meta) == inference


# ---------------------------------------------------------------------------------------------
# go_json_marshal / canonical_block_hash
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"b": [True, None], "a": 1}, '{"a":1,"b":[true,null]}'),
        ({}, "{}"),
        ([], "[]"),
        ((1, "x"), '[1,"x"]'),
        ("", '""'),
        ('"\\', '"\\"\\\\"'),
        ("\n\r\t", '"\\n\\r\\t"'),
        ("\b\f", '"\\b\\f"'),
        ("\x00\x01\x1f", '"\\u0000\\u0001\\u001f"'),
        ("\x7f", '"\x7f"'),
        ("<a>&", '"\\u003ca\\u003e\\u0026"'),
        ("\u2028\u2029", '"\\u2028\\u2029"'),
        ("\ud800x\udfff", '"\\ufffdx\\ufffd"'),
        ("caf\u00e9 \U0001f600 \u00a0", '"caf\u00e9 \U0001f600 \u00a0"'),
        (7, "7"),
        (-12345678901234567890, "-12345678901234567890"),
        (7.0, "7"),
        (1.5, "1.5"),
        (-0.0, "-0"),
        (0.0, "0"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1.5e300, "1.5e+300"),
        (1e-7, "1e-7"),
        (1.5e-10, "1.5e-10"),
        (1e-100, "1e-100"),
        (0.000001, "0.000001"),
        (0.0000012, "0.0000012"),
        (123456789.0, "123456789"),
        (0.1, "0.1"),
        (5e-324, "5e-324"),
        (True, "true"),
        (False, "false"),
        (None, "null"),
        (b"hi", '"aGk="'),
        ({"\u00e9": 1, "z": 2, "Z": 3, "\U00010000": 4}, '{"Z":3,"z":2,"\u00e9":1,"\U00010000":4}'),
        ({"<": "&"}, '{"\\u003c":"\\u0026"}'),
        ({1: "x", "0": "y"}, '{"0":"y","1":"x"}'),
        (dt.datetime(2026, 2, 24, 10, 0, 0, tzinfo=dt.UTC), '"2026-02-24T10:00:00Z"'),
        (dt.datetime(2026, 2, 24, 10, 0, 0), '"2026-02-24T10:00:00Z"'),
        (dt.datetime(2026, 2, 24, 10, 0, 0, 120000), '"2026-02-24T10:00:00.12Z"'),
        (
            dt.datetime(
                2026, 2, 24, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5, minutes=-30))
            ),
            '"2026-02-24T10:00:00-05:30"',
        ),
        (dt.date(2026, 2, 24), '"2026-02-24"'),
    ],
)
def test_go_json_marshal(value: Any, expected: str) -> None:
    assert go_json_marshal(value) == expected


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, [1.0, {"a": math.nan}]])
def test_go_json_marshal_rejects_non_finite(bad: Any) -> None:
    with pytest.raises(ValueError):
        go_json_marshal(bad)


@pytest.mark.parametrize("bad", [object(), {1.5: "x"}, {None: 1}, {True: 1}, {1, 2}])
def test_go_json_marshal_rejects_unsupported(bad: Any) -> None:
    with pytest.raises(TypeError):
        go_json_marshal(bad)


def test_canonical_block_material_and_hash() -> None:
    material = '{"kind":"user","role":"user","payload":{"text":"hi"},"metadata":{}}'
    assert canonical_block_material("user", "user", {"text": "hi"}, None) == material
    expected = hashlib.sha256(material.encode()).hexdigest()
    assert canonical_block_hash("user", "user", {"text": "hi"}, None) == expected
    assert canonical_block_hash(" user\n", "\u00a0user", {"text": "hi"}, {}) == expected
    assert len(expected) == 64 and expected == expected.lower()


def test_canonical_block_material_orders_struct_fields_and_sorts_maps() -> None:
    material = canonical_block_material(
        "tool_call", "", {"z": 1.0, "a": [1e21, "<b>"]}, {"m": None, "b": {"y": 2, "x": 1}}
    )
    assert material == (
        '{"kind":"tool_call","role":"","payload":{"a":[1e+21,"\\u003cb\\u003e"],"z":1},'
        '"metadata":{"b":{"x":1,"y":2},"m":null}}'
    )
    assert canonical_block_material("k", "r", None, None) == (
        '{"kind":"k","role":"r","payload":{},"metadata":{}}'
    )


def test_canonical_block_material_normalizes_like_go() -> None:
    # normalizeJSONValue: non-string map keys via fmt.Sprint, []byte as an array of numbers.
    material = canonical_block_material(
        "k", "r", {"d": {1: "a", 2.5: "b", None: "c"}, "b": b"hi"}, None
    )
    assert material == (
        '{"kind":"k","role":"r","payload":{"b":[104,105],"d":{"1":"a","2.5":"b","\\u003cnil\\u003e":"c"}},'
        '"metadata":{}}'
    )


# ---------------------------------------------------------------------------------------------
# Property tests
# ---------------------------------------------------------------------------------------------

_finite = st.floats(allow_nan=False, allow_infinity=False)
_scalars = st.none() | st.booleans() | _finite | st.text() | st.integers(-(2**70), 2**70)
_json_values = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5)
    ),
    max_leaves=25,
)
_json_objects = st.dictionaries(st.text(), _json_values, max_size=6)


def _as_go(value: Any) -> Any:
    """The Python value Go's decoder would produce: every number a float."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, list):
        return [_as_go(v) for v in value]
    return {k: _as_go(v) for k, v in value.items()}


def _same(a: Any, b: Any) -> bool:
    """Structural equality that also distinguishes float types and -0.0 from 0.0."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


@settings(max_examples=200)
@given(_json_objects, st.booleans(), st.sampled_from(["", " ", "\n\t\r "]))
def test_decode_round_trips_python_json(obj: dict[str, Any], ascii_only: bool, pad: str) -> None:
    text = pad + json.dumps(obj, ensure_ascii=ascii_only) + pad
    decoded = decode_metadata(text)
    assert decoded is not None
    assert _same(decoded, _as_go(obj))
    assert _same(_decode_iterative(text), decoded)


def _numeric_equal(parsed: Any, expected: Any) -> bool:
    """Equality where an expected float matches any number with the same float value."""
    if isinstance(expected, float):
        return isinstance(parsed, int | float) and float(parsed) == expected
    if isinstance(expected, list):
        return (
            isinstance(parsed, list)
            and len(parsed) == len(expected)
            and all(_numeric_equal(p, e) for p, e in zip(parsed, expected, strict=True))
        )
    if isinstance(expected, dict):
        return (
            isinstance(parsed, dict)
            and parsed.keys() == expected.keys()
            and all(_numeric_equal(parsed[k], expected[k]) for k in expected)
        )
    return type(parsed) is type(expected) and bool(parsed == expected)


@settings(max_examples=200)
@given(_json_values)
def test_go_json_marshal_parses_back(value: Any) -> None:
    out = go_json_marshal(value)
    assert _numeric_equal(json.loads(out), value)
    assert "<" not in out and ">" not in out and "&" not in out
    assert not any(c < " " for c in out)
    if isinstance(value, dict):
        again = decode_metadata(out)
        assert again is not None and _same(again, _as_go(value))


@given(_finite)
def test_go_json_marshal_float_round_trips(x: float) -> None:
    out = go_json_marshal(x)
    assert float(out) == x
    assert ("e" in out) == (x != 0 and (abs(x) < 1e-6 or abs(x) >= 1e21))
    assert "e-0" not in out and not out.endswith(".0")
