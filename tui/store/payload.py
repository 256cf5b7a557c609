"""Turn YAML payloads (legacy snapshot rows, geppetto_turns) parsed as Go's yaml.v3 would."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import yaml


@cache
def _loader() -> type[yaml.SafeLoader]:
    """A safe loader with YAML 1.2 core booleans and no timestamps (like Go's yaml.v3).

    Built on first use so the headless CLI only pays for PyYAML when it meets YAML.
    """
    import yaml

    base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader: type[yaml.SafeLoader] = type("Yaml12Loader", (base,), {})
    loader.yaml_implicit_resolvers = {
        first: [
            (tag, regexp)
            for tag, regexp in resolvers
            if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")
        ]
        for first, resolvers in base.yaml_implicit_resolvers.items()
    }
    loader.add_implicit_resolver(
        "tag:yaml.org,2002:bool",
        re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
        list("tTfF"),
    )
    return loader


class PayloadError(ValueError):
    """A payload that is not a parseable turn."""


@dataclass(frozen=True)
class ParsedBlock:
    """One block of a parsed turn payload."""

    id: str
    kind: str
    role: str
    payload: dict[str, Any]
    metadata: dict[str, Any]


@dataclass(frozen=True)
class ParsedTurn:
    """A turn decoded from its YAML payload."""

    id: str
    blocks: tuple[ParsedBlock, ...]
    metadata: dict[str, Any]
    data: dict[str, Any]


def _mapping(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(f"{what} is not a mapping")
    return {str(k): v for k, v in value.items()}


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def parse_turn_yaml(text: str) -> ParsedTurn:
    """Parse a turn payload; raise PayloadError when it is not a turn."""
    import yaml

    try:
        doc = yaml.load(text, Loader=_loader())  # noqa: S506 - safe loader subclass
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise PayloadError(f"YAML does not parse: {first}") from exc
    except (ValueError, TypeError, RecursionError) as exc:
        raise PayloadError(f"YAML does not parse: {exc}") from exc
    if doc is None:
        raise PayloadError("YAML payload is empty")
    if not isinstance(doc, dict):
        raise PayloadError("YAML payload is not a mapping")
    raw_blocks = doc.get("blocks") or []
    if not isinstance(raw_blocks, list):
        raise PayloadError("blocks is not a list")
    blocks: list[ParsedBlock] = []
    for i, raw in enumerate(raw_blocks):
        if not isinstance(raw, dict):
            raise PayloadError(f"block {i} is not a mapping")
        blocks.append(
            ParsedBlock(
                id=_text(raw.get("id")),
                kind=_text(raw.get("kind")),
                role=_text(raw.get("role")),
                payload=_mapping(raw.get("payload"), f"block {i} payload"),
                metadata=_mapping(raw.get("metadata"), f"block {i} metadata"),
            )
        )
    return ParsedTurn(
        id=_text(doc.get("id")),
        blocks=tuple(blocks),
        metadata=_mapping(doc.get("metadata"), "metadata"),
        data=_mapping(doc.get("data"), "data"),
    )
