"""Byte-exact emulation of the Go (pinocchio) JSON handling used by the turns backfill.

pinocchio's SQLite turn store back-fills ``turns.runtime_key`` / ``turns.inference_id``
from ``turn_metadata_json`` (``backfillTurnRuntimeAndInferenceColumns`` in
``pkg/persistence/chatstore/turn_store_sqlite.go``).  It decodes the metadata with
``encoding/json`` into ``map[string]any`` and stringifies values with ``fmt.Sprint`` and
``strings.TrimSpace``.  This module reproduces those Go semantics in pure Python so that the
TUI derives byte-identical strings:

* :func:`decode_metadata` -- ``parseJSONObject`` (``json.Unmarshal`` into ``map[string]any``).
* :func:`go_trim_space` -- ``strings.TrimSpace``.
* :func:`go_sprint` -- ``fmt.Sprint`` of JSON-decoded values.
* :func:`extract_runtime_key` / :func:`extract_inference_id` -- the backfill rules
  (pinocchio d39acba8, "GP-26").  :func:`extract_runtime_key_v2` /
  :func:`extract_inference_id_v2` are the narrower rules pinocchio uses since 61eeed77.
* :func:`go_json_marshal` / :func:`canonical_block_hash` -- ``json.Marshal`` and
  ``ComputeBlockContentHash`` (``sha256-canonical-json-v1``).

Everything is iterative (no Python recursion), so documents nested up to Go's limit of
10000 levels are handled without ``RecursionError``.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import json
import math
import re
from collections.abc import Callable, Iterator
from typing import Any

import orjson

__all__ = [
    "GO_MAX_NESTING_DEPTH",
    "canonical_block_hash",
    "canonical_block_material",
    "decode_metadata",
    "extract_inference_id",
    "extract_inference_id_v2",
    "extract_runtime_key",
    "extract_runtime_key_v2",
    "go_json_marshal",
    "go_sprint",
    "go_trim_space",
    "marshal_object",
]

#: encoding/json's scanner limit: error as soon as more than this many ``[``/``{`` are open.
GO_MAX_NESTING_DEPTH = 10000

# ---------------------------------------------------------------------------------------------
# strings.TrimSpace
# ---------------------------------------------------------------------------------------------

# unicode.IsSpace: the Latin-1 set plus the rest of the Unicode White_Space property.
# Deliberately NOT U+001C..U+001F (str.strip() removes them), U+180E, U+200B or U+FEFF.
_GO_SPACE_CHARS = (
    "\t\n\v\f\r \x85\xa0"
    "\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)


def go_trim_space(s: str) -> str:
    """Return ``s`` without leading/trailing white space, like Go's ``strings.TrimSpace``."""
    return s.strip(_GO_SPACE_CHARS)


# ---------------------------------------------------------------------------------------------
# json.Unmarshal into map[string]any
# ---------------------------------------------------------------------------------------------


class _Reject(Exception):
    """Raised internally when Go's encoding/json would return an error."""


def _parse_number(literal: str) -> float:
    # Go decodes every JSON number into float64 via strconv.ParseFloat, which fails
    # (ErrRange) on overflow; underflow silently yields (signed) zero.
    value = float(literal)
    if math.isinf(value):
        raise _Reject(literal)
    return value


def _reject_constant(name: str) -> Any:
    raise _Reject(name)


_FAST_DECODER = json.JSONDecoder(
    parse_float=_parse_number,
    parse_int=_parse_number,
    parse_constant=_reject_constant,
    strict=True,
)

# Anything that could produce a lone surrogate after decoding: a \uD800-\uDFFF escape
# (cheap over-approximation) or a raw surrogate code point in the Python string.
_SURROGATE_HINT = re.compile(r"\\u[dD][89a-fA-F]|[\ud800-\udfff]")
# Tokenizer used to rewrite lone surrogates to U+FFFD *before* decoding.  Escaped
# backslashes are consumed first so the scan stays aligned with escape boundaries; valid
# high+low pairs are kept (json combines them into one astral code point), any other
# surrogate escape becomes \ufffd, as Go's unquote does; raw surrogate code points (e.g.
# from surrogateescape, one per invalid byte) become U+FFFD like Go's invalid-UTF-8 bytes.
_SURROGATE_FIX = re.compile(
    r"(?P<bs>\\\\)"
    r"|(?P<pair>\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    r"|(?P<lone>\\u[dD][89a-fA-F][0-9a-fA-F]{2})"
    r"|(?P<raw>[\ud800-\udfff])"
)


def _fix_surrogate(m: re.Match[str]) -> str:
    if m.lastgroup == "lone":
        return "\\ufffd"
    if m.lastgroup == "raw":
        return "\ufffd"
    return m.group()


# Strings (for the depth pre-scan) and brackets outside strings.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def _max_depth(text: str) -> int:
    """Nesting depth of ``text`` (exact for valid JSON; any value for invalid JSON)."""
    depth = best = 0
    for m in _BRACKET.finditer(_JSON_STRING.sub('""', text)):
        if m.group() in "[{":
            depth += 1
            best = max(best, depth)
        else:
            depth -= 1
    return best


_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
# (str, index after the opening quote, strict) -> (decoded, index after the closing quote);
# the C implementation when available.  Not in typeshed.
_scanstring: Callable[[str, int, bool], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]


def _skip_ws(text: str, idx: int) -> int:
    m = _WS.match(text, idx)
    return idx if m is None else m.end()


def _decode_iterative(text: str) -> Any:
    """Decode one JSON document without recursion (same semantics as ``_FAST_DECODER``).

    Used for deeply nested documents.  Raises :class:`_Reject` or ``ValueError`` when the
    document is invalid, or nested deeper than :data:`GO_MAX_NESTING_DEPTH`.
    """
    n = len(text)
    ws = _skip_ws
    # Each frame is [container, pending_key]; pending_key is only used for dicts.
    stack: list[list[Any]] = []
    idx = ws(text, 0)
    while True:
        # ---- parse one value starting at idx -----------------------------------------
        value: Any
        ch = text[idx : idx + 1]
        if ch == "{" or ch == "[":
            container: Any = {} if ch == "{" else []
            stack.append([container, None])
            if len(stack) > GO_MAX_NESTING_DEPTH:
                raise _Reject("exceeded max depth")
            idx = ws(text, idx + 1)
            close = "}" if ch == "{" else "]"
            if text[idx : idx + 1] == close:
                idx += 1
                stack.pop()
                value = container
            else:
                if ch == "{":
                    idx = _read_key(text, idx, stack[-1])
                continue
        elif ch == '"':
            value, idx = _scanstring(text, idx + 1, True)
        elif ch == "t" and text.startswith("true", idx):
            value, idx = True, idx + 4
        elif ch == "f" and text.startswith("false", idx):
            value, idx = False, idx + 5
        elif ch == "n" and text.startswith("null", idx):
            value, idx = None, idx + 4
        else:
            m = _NUMBER.match(text, idx)
            if m is None:
                raise _Reject(f"invalid character at offset {idx}")
            value, idx = _parse_number(m.group()), m.end()
        # ---- attach the completed value; close containers as far as possible --------
        while True:
            if not stack:
                idx = ws(text, idx)
                if idx != n:
                    raise _Reject("trailing data")
                return value
            frame = stack[-1]
            target = frame[0]
            if isinstance(target, dict):
                target[frame[1]] = value
            else:
                target.append(value)
            idx = ws(text, idx)
            ch = text[idx : idx + 1]
            if ch == ",":
                idx = ws(text, idx + 1)
                if isinstance(target, dict):
                    idx = _read_key(text, idx, frame)
                break
            if ch == ("}" if isinstance(target, dict) else "]"):
                idx += 1
                stack.pop()
                value = target
                continue
            raise _Reject(f"invalid character at offset {idx}")


def _read_key(text: str, idx: int, frame: list[Any]) -> int:
    """Read ``"key" :`` at ``idx`` into ``frame[1]``; return the index of the value."""
    if text[idx : idx + 1] != '"':
        raise _Reject(f"expected object key at offset {idx}")
    key, idx = _scanstring(text, idx + 1, True)
    idx = _skip_ws(text, idx)
    if text[idx : idx + 1] != ":":
        raise _Reject(f"expected ':' at offset {idx}")
    frame[1] = key
    return _skip_ws(text, idx + 1)


# With float64=False (the backfill, whose extraction treats ints as float64), orjson
# decides the texts it can (about 3x faster than the stdlib decoder); tests turn it off to
# compare both paths.
FAST_DECODE = True


def decode_metadata(text: str | bytes | None, *, float64: bool = True) -> dict[str, Any] | None:
    """Decode turn metadata JSON exactly as pinocchio's ``parseJSONObject`` does.

    Returns ``{}`` for ``None``/blank text (Go ``strings.TrimSpace``) and for ``null``; the
    decoded object (numbers as ``float``, lone surrogates as U+FFFD) on success; ``None``
    whenever Go's ``json.Unmarshal`` would fail (not an object, NaN/Infinity, float64
    overflow, BOM, trailing data, control characters in strings, depth > 10000, ...).

    With ``float64=False`` integers may come back as ``int`` (the extraction rules below
    still treat them as float64); that lets orjson decide most texts, three times faster.

    Raw UTF-8 bytes are accepted (the backfill reads them so): each invalid UTF-8 byte
    becomes one U+FFFD, as in Go.
    """
    if isinstance(text, bytes):
        if not float64 and FAST_DECODE and b"-0" not in text:
            try:  # orjson reads bytes directly, and refuses invalid UTF-8
                fast = orjson.loads(text)
            except (orjson.JSONDecodeError, ValueError, TypeError, RecursionError):
                pass
            else:
                if fast is None:
                    return {}
                return fast if isinstance(fast, dict) else None
        text = text.decode("utf-8", "surrogateescape")
    if text is None or go_trim_space(text) == "":
        return {}
    if not float64 and FAST_DECODE and "-0" not in text:
        # orjson refuses what Go refuses here (NaN, float64 overflow, BOM, control
        # characters, lone surrogates, trailing data) and keeps the last duplicate key;
        # anything it refuses goes to the exact path below, which has the last word.
        # "-0" is left to the exact path: orjson reads it as the integer 0.
        try:
            fast = orjson.loads(text)
        except (orjson.JSONDecodeError, ValueError, TypeError, UnicodeError, RecursionError):
            pass
        else:
            if fast is None:
                return {}
            return fast if isinstance(fast, dict) else None
    if (not text.isascii() or "\\u" in text) and _SURROGATE_HINT.search(text) is not None:
        text = _SURROGATE_FIX.sub(_fix_surrogate, text)
    try:
        if (
            text.count("[") + text.count("{") > GO_MAX_NESTING_DEPTH
            and _max_depth(text) > GO_MAX_NESTING_DEPTH
        ):
            return None
        try:
            value = _FAST_DECODER.decode(text)
        except RecursionError:
            value = _decode_iterative(text)
    except (_Reject, ValueError, RecursionError):
        return None
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    return None


# ---------------------------------------------------------------------------------------------
# fmt.Sprint
# ---------------------------------------------------------------------------------------------


def _shortest_digits(x: float) -> tuple[str, int]:
    """Shortest round-trip decimal digits of finite ``abs(x)``: value = 0.DIGITS * 10**dp.

    Mirrors strconv's ``decimalSlice`` (``d[:nd]``, ``dp``); zero is ``("", 0)``.
    """
    mant, _, exp_s = repr(abs(x)).partition("e")
    int_part, _, frac = mant.partition(".")
    digits = int_part + frac
    dp = len(int_part) + (int(exp_s) if exp_s else 0)
    stripped = digits.lstrip("0")
    dp -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    if not digits:
        return "", 0
    return digits, dp


def _fmt_e(neg: bool, digits: str, dp: int) -> str:
    # strconv fmtE with shortest precision: d[.ddd]e±dd (at least two exponent digits).
    out = "-" if neg else ""
    out += digits[:1] or "0"
    if len(digits) > 1:
        out += "." + digits[1:]
    exp = dp - 1 if digits else 0
    out += "e-" if exp < 0 else "e+"
    return out + f"{abs(exp):02d}"


def _fmt_f(neg: bool, digits: str, dp: int) -> str:
    # strconv fmtF with shortest precision max(nd-dp, 0).
    out = "-" if neg else ""
    if dp > 0:
        out += digits[:dp] + "0" * max(dp - len(digits), 0)
    else:
        out += "0"
    prec = max(len(digits) - dp, 0)
    if prec > 0:
        out += "." + "".join(
            digits[j] if 0 <= j < len(digits) else "0" for j in range(dp, dp + prec)
        )
    return out


def _go_float_v(x: float) -> str:
    """``fmt.Sprint(float64)``: strconv.FormatFloat(x, 'g', -1, 64) plus fmt's sign rules."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "+Inf" if x > 0 else "-Inf"
    neg = math.copysign(1.0, x) < 0
    digits, dp = _shortest_digits(x)
    exp = dp - 1
    if exp < -4 or exp >= 6:  # shortest => eprec = 6
        return _fmt_e(neg, digits, dp)
    return _fmt_f(neg, digits, dp)


def _sprint_key(key: Any) -> str:
    return key if isinstance(key, str) else go_sprint(key)


def _byte_order(s: str) -> bytes:
    return s.encode("utf-8", "surrogatepass")


def go_sprint(value: Any, *, ints_as_float64: bool = False) -> str:
    """Go's ``fmt.Sprint(v)`` for a value decoded by encoding/json into ``any``.

    str -> itself, bool -> true/false, None -> ``<nil>``, float -> ``%v`` (``1e+06``, ``7``,
    ``-0``), int -> decimal, list -> ``[a b]``, dict -> ``map[k:v ...]`` with keys in byte
    order.  Iterative, so arbitrarily deep values are fine.  With `ints_as_float64`, ints
    print as the float64 Go's JSON decoder would have made of them (``1e+06``).
    """
    out: list[str] = []
    # A str on the stack is emitted verbatim (str values print as themselves anyway).
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
        elif item is None:
            out.append("<nil>")
        elif isinstance(item, bool):
            out.append("true" if item else "false")
        elif isinstance(item, int):
            out.append(_go_float_v(float(item)) if ints_as_float64 else str(item))
        elif isinstance(item, float):
            out.append(_go_float_v(item))
        elif isinstance(item, bytes | bytearray):
            stack.append(list(item))  # a Go []byte prints as [104 105]
        elif isinstance(item, list | tuple):
            stack.append("]")
            for i in range(len(item) - 1, -1, -1):
                stack.append(item[i])
                if i:
                    stack.append(" ")
            stack.append("[")
        elif isinstance(item, dict):
            pairs = sorted(
                ((_sprint_key(k), v) for k, v in item.items()),
                key=lambda kv: _byte_order(kv[0]),
            )
            stack.append("]")
            for i in range(len(pairs) - 1, -1, -1):
                stack.append(pairs[i][1])
                stack.append(pairs[i][0] + ":")
                if i:
                    stack.append(" ")
            stack.append("map[")
        else:
            out.append(str(item))
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# Backfill extraction rules
# ---------------------------------------------------------------------------------------------

RUNTIME_KEYS = ("geppetto.runtime@v1", "runtime", "runtime_key")
INFERENCE_KEYS = ("geppetto.inference_id@v1", "inference_id")
PROBE_KEYS = ("runtime_key", "key", "slug", "profile", "profile_key", "inference_id")


def scalar_string(value: Any) -> str:
    """Go ``stringFromValue`` for non-maps; ``""`` means "not ok"."""
    if isinstance(value, str):
        return go_trim_space(value)
    s = go_trim_space(go_sprint(value, ints_as_float64=True))
    return "" if s == "<nil>" else s


def _probe(value: dict[str, Any]) -> Iterator[Any]:
    return (value[k] for k in PROBE_KEYS if k in value)


def _value_string(value: Any) -> str:
    """Go ``stringFromMaybeRuntimeValue`` (recursive map probing, done iteratively)."""
    if not isinstance(value, dict):
        return scalar_string(value)
    done = object()
    stack = [_probe(value)]
    while stack:
        child = next(stack[-1], done)
        if child is done:
            stack.pop()
        elif isinstance(child, dict):
            stack.append(_probe(child))
        else:
            s = scalar_string(child)
            if s:
                return s
    return ""


def _first(meta: dict[str, Any], keys: tuple[str, ...]) -> str:
    for key in keys:
        if key in meta:
            s = _value_string(meta[key])
            if s:
                return s
    return ""


def extract_runtime_key(meta: dict[str, Any]) -> str:
    """Backfilled ``runtime_key``: first non-empty of geppetto.runtime@v1, runtime, runtime_key.

    Strings are TrimSpace'd, maps probed (runtime_key, key, slug, profile, profile_key,
    inference_id; recursively), other values ``fmt.Sprint``-ed; null gives nothing.
    """
    # Fast path for the canonical shapes (same result as the general rule below).
    value = meta.get(RUNTIME_KEYS[0])
    if type(value) is dict:
        value = value.get(PROBE_KEYS[0])
    if type(value) is str:
        trimmed = value.strip(_GO_SPACE_CHARS)
        if trimmed:
            return trimmed
    return _first(meta, RUNTIME_KEYS)


def extract_inference_id(meta: dict[str, Any]) -> str:
    """Backfilled ``inference_id``: first non-empty of geppetto.inference_id@v1, inference_id."""
    value = meta.get(INFERENCE_KEYS[0])
    if type(value) is str:  # fast path for the canonical shape
        trimmed = value.strip(_GO_SPACE_CHARS)
        if trimmed:
            return trimmed
    return _first(meta, INFERENCE_KEYS)


def extract_runtime_key_v2(meta: dict[str, Any]) -> str:
    """Runtime rule of pinocchio >= 61eeed77: only ``geppetto.runtime@v1`` as a map's runtime_key.

    The nested value is stringified without map probing (a map prints as ``map[...]``).
    """
    value = meta.get("geppetto.runtime@v1")
    if isinstance(value, dict) and "runtime_key" in value:
        return scalar_string(value["runtime_key"])
    return ""


def extract_inference_id_v2(meta: dict[str, Any]) -> str:
    """Inference rule of pinocchio >= 61eeed77: same keys, but maps print as ``map[...]``."""
    for key in INFERENCE_KEYS:
        if key in meta:
            s = scalar_string(meta[key])
            if s:
                return s
    return ""


# ---------------------------------------------------------------------------------------------
# json.Marshal
# ---------------------------------------------------------------------------------------------

_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",  # Go >= 1.22; older Go wrote \u0008
    "\f": "\\f",  # Go >= 1.22; older Go wrote \u000c
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_NEEDS_ESCAPE = re.compile('[\x00-\x1f"\\\\<>&\u2028\u2029\ud800-\udfff]')


def _escape_char(m: re.Match[str]) -> str:
    c = m.group()
    esc = _ESCAPES.get(c)
    if esc is not None:
        return esc
    if c < " ":
        return f"\\u{ord(c):04x}"
    return "\\ufffd"  # lone surrogate: Go writes invalid UTF-8 as \ufffd


def _quote(s: str) -> str:
    return '"' + _NEEDS_ESCAPE.sub(_escape_char, s) + '"'


def _json_float(x: float) -> str:
    """encoding/json float64: shortest 'f', or 'e' (e-07 -> e-7) below 1e-6 / from 1e21."""
    if math.isnan(x) or math.isinf(x):
        raise ValueError(f"json: unsupported value: {x!r}")
    neg = math.copysign(1.0, x) < 0
    digits, dp = _shortest_digits(x)
    ax = abs(x)
    if ax != 0 and (ax < 1e-6 or ax >= 1e21):
        out = _fmt_e(neg, digits, dp)
        if len(out) >= 4 and out[-4] == "e" and out[-3] == "-" and out[-2] == "0":
            out = out[:-2] + out[-1]
        return out
    return _fmt_f(neg, digits, dp)


def _go_time(value: _dt.datetime | _dt.date) -> str:
    if not isinstance(value, _dt.datetime):
        # yaml.v3 leaves timestamp-looking scalars decoded into `any` as their text, and a
        # YAML date is almost always written YYYY-MM-DD.
        return value.isoformat()
    out = (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
        f"T{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
    )
    if value.microsecond:
        out += f".{value.microsecond:06d}".rstrip("0")
    offset = value.utcoffset()
    if offset is None or offset == _dt.timedelta(0):
        return out + "Z"
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hh, mm = divmod(abs(minutes), 60)
    return f"{out}{sign}{hh:02d}:{mm:02d}"


class _Raw(str):
    """Already-rendered JSON text on the marshal stack."""

    __slots__ = ()


def _marshal(value: Any, *, normalize: bool) -> str:
    out: list[str] = []
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, _Raw):
            out.append(item)
        elif isinstance(item, str):
            out.append(_quote(item))
        elif item is None:
            out.append("null")
        elif isinstance(item, bool):
            out.append("true" if item else "false")
        elif isinstance(item, int):
            out.append(str(item))
        elif isinstance(item, float):
            out.append(_json_float(item))
        elif isinstance(item, bytes | bytearray):
            if normalize:  # normalizeJSONValue turns a []byte into []any of numbers
                stack.append(list(item))
            else:
                out.append('"' + base64.b64encode(bytes(item)).decode("ascii") + '"')
        elif isinstance(item, _dt.date):
            out.append(_quote(_go_time(item)))
        elif isinstance(item, list | tuple):
            stack.append(_Raw("]"))
            for i in range(len(item) - 1, -1, -1):
                stack.append(item[i])
                if i:
                    stack.append(_Raw(","))
            stack.append(_Raw("["))
        elif isinstance(item, dict):
            pairs = sorted(
                ((_marshal_key(k, normalize), v) for k, v in item.items()),
                key=lambda kv: _byte_order(kv[0]),
            )
            stack.append(_Raw("}"))
            for i in range(len(pairs) - 1, -1, -1):
                stack.append(pairs[i][1])
                stack.append(_Raw(_quote(pairs[i][0]) + ":"))
                if i:
                    stack.append(_Raw(","))
            stack.append(_Raw("{"))
        else:
            raise TypeError(f"json: unsupported type: {type(item).__name__}")
    return "".join(out)


def _marshal_key(key: Any, normalize: bool) -> str:
    if isinstance(key, str):
        return key
    if normalize:  # normalizeJSONValue: fmt.Sprint(key)
        return go_sprint(key)
    if isinstance(key, int) and not isinstance(key, bool):
        return str(key)
    raise TypeError(f"json: unsupported map key type: {type(key).__name__}")


def go_json_marshal(value: Any) -> str:
    """Go's ``json.Marshal`` (HTML-escaping, keys in byte order, no spaces) as a str.

    Accepts dict (str/int keys), list/tuple, str, int, float, bool, None, bytes (base64, as
    Go's ``[]byte``) and, best effort, ``datetime`` (Go ``time.Time``: RFC 3339 with trimmed
    fraction, ``Z`` for UTC or naive) and ``date`` (``YYYY-MM-DD``, the text yaml.v3 keeps).
    Raises ``ValueError`` for NaN/Inf and ``TypeError`` for other types.
    """
    return _marshal(value, normalize=False)


def canonical_block_material(
    kind: str,
    role: str,
    payload: dict[str, Any] | None,
    metadata: dict[str, Any] | None,
) -> str:
    """pinocchio ``CanonicalBlockMaterialJSON``: ``{"kind","role","payload","metadata"}`` JSON."""
    return (
        '{"kind":'
        + _quote(go_trim_space(kind))
        + ',"role":'
        + _quote(go_trim_space(role))
        + ',"payload":'
        + _marshal(payload if payload is not None else {}, normalize=True)
        + ',"metadata":'
        + _marshal(metadata if metadata is not None else {}, normalize=True)
        + "}"
    )


def marshal_object(value: dict[str, Any]) -> str:
    """Go's ``marshalJSONObject``: ``{}`` for an empty map, else ``go_json_marshal``."""
    return go_json_marshal(value) if value else "{}"


def canonical_block_hash(
    kind: str,
    role: str,
    payload: dict[str, Any] | None,
    metadata: dict[str, Any] | None,
) -> str:
    """pinocchio ``ComputeBlockContentHash``: lowercase hex SHA-256 of the canonical material."""
    material = canonical_block_material(kind, role, payload, metadata)
    return hashlib.sha256(material.encode("utf-8")).hexdigest()
