"""Reading catalog files: Warroom's own YAML and Backstage `catalog-info.yaml` documents.

Both are turned into one `CatalogSnapshot`, and every value keeps the line it came from, so a
bad document is reported as `file:line: field: problem` (PyYAML's composed nodes carry marks).
Backstage mapping: Group -> team; Component, API and Resource -> service of that kind;
System -> the `system` of its members; `spec.dependsOn` / `spec.consumesApis` -> dependencies.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml
from pydantic import ValidationError

from warroom.catalog.schemas import CatalogSnapshot
from warroom.errors import FieldError, InvalidInput
from warroom.validation import field_errors

BACKSTAGE_API_VERSION = "backstage.io/v1alpha1"
WARROOM_API_VERSION = "warroom.dev/v1"
BACKSTAGE_KINDS = {"Component", "API", "Resource", "Group", "System"}
_NAMESPACED_REF_KINDS = {"component", "api", "resource", "group", "system"}


@dataclass
class Located:
    """A plain Python value plus the line of every nested path in its file."""

    value: Any
    lines: dict[tuple[str | int, ...], int]
    start_line: int


@dataclass
class ParsedCatalog:
    snapshot: CatalogSnapshot
    filename: str
    lines: dict[str, int] = field(default_factory=dict)

    def line_of(self, dotted: str) -> int | None:
        """The closest known line for a dotted snapshot path such as services.2.depends_on.0."""
        parts = dotted.split(".")
        while parts:
            line = self.lines.get(".".join(parts))
            if line is not None:
                return line
            parts.pop()
        return None

    def locate(self, error: InvalidInput) -> InvalidInput:
        """The same error with file and line filled in for every field."""
        located = [
            FieldError(f"{self.filename}: {err.field}", err.message, self.line_of(err.field))
            for err in error.errors
        ]
        first = located[0] if located else None
        where = f"{self.filename}:{first.line}" if first and first.line else self.filename
        return type(error)(f"{where}: {error.detail}", located)


def load_documents(text: str, filename: str) -> list[Located]:
    """Every YAML document in `text`, with line numbers; syntax errors name their line."""
    try:
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        where = f"{filename}:{line}" if line else filename
        raise InvalidInput(
            f"{where}: not valid YAML", [FieldError(filename, str(exc), line)]
        ) from exc
    documents = []
    for node in nodes:
        if node is None:
            continue
        lines: dict[tuple[str | int, ...], int] = {}
        documents.append(Located(_to_python(node, (), lines), lines, node.start_mark.line + 1))
    return documents


def _to_python(
    node: yaml.Node, path: tuple[str | int, ...], lines: dict[tuple[str | int, ...], int]
) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            result[key] = _to_python(value_node, (*path, key), lines)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(item, (*path, i), lines) for i, item in enumerate(node.value)]
    return _SCALARS.construct_object(node, deep=True)


# One loader instance only to reuse its scalar constructors (int, bool, timestamps ...).
_SCALARS = yaml.SafeLoader("")


def parse_catalog(text: str, filename: str) -> ParsedCatalog:
    """Parse a file in either format into a validated snapshot (nothing is written)."""
    documents = load_documents(text, filename)
    if not documents:
        raise InvalidInput(f"{filename}: no documents", [FieldError(filename, "file is empty")])
    first = documents[0].value
    if isinstance(first, dict) and first.get("apiVersion", "").startswith("backstage.io/"):
        raw, lines = _from_backstage(documents, filename)
    else:
        raw, lines = _from_warroom(documents, filename)
    parsed = ParsedCatalog(CatalogSnapshot(), filename, lines)
    try:
        parsed.snapshot = CatalogSnapshot.model_validate(raw)
    except ValidationError as exc:
        error = InvalidInput("the catalog is not valid", field_errors(exc, root="catalog"))
        raise parsed.locate(error) from exc
    return parsed


def _from_warroom(documents: list[Located], filename: str) -> tuple[dict[str, Any], dict[str, int]]:
    if len(documents) != 1 or not isinstance(documents[0].value, dict):
        raise InvalidInput(
            f"{filename}: expected one mapping with `teams` and `services`",
            [FieldError(filename, "not a Warroom catalog document", documents[0].start_line)],
        )
    document = documents[0]
    raw = {k: v for k, v in document.value.items() if k not in ("apiVersion", "kind")}
    lines = {".".join(str(p) for p in path): line for path, line in document.lines.items()}
    return raw, lines


def _from_backstage(
    documents: list[Located], filename: str
) -> tuple[dict[str, Any], dict[str, int]]:
    builder = _BackstageBuilder(filename)
    for document in documents:
        builder.add(document)
    return builder.result()


class _BackstageBuilder:
    """Collects Backstage entities into the snapshot's teams and services."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.teams: list[dict[str, Any]] = []
        self.services: list[dict[str, Any]] = []
        self.systems: dict[str, str] = {}
        self.lines: dict[str, int] = {}

    def add(self, document: Located) -> None:
        entity = document.value
        kind = entity.get("kind") if isinstance(entity, dict) else None
        if kind not in BACKSTAGE_KINDS:
            raise InvalidInput(
                f"{self.filename}:{document.start_line}: unsupported kind {kind!r}",
                [
                    FieldError(
                        "kind",
                        f"expected one of {sorted(BACKSTAGE_KINDS)}",
                        document.lines.get(("kind",), document.start_line),
                    )
                ],
            )
        metadata = entity.get("metadata") or {}
        spec = entity.get("spec") or {}
        if kind == "Group":
            self._add_group(document, metadata, spec)
        elif kind == "System":
            self.systems[str(metadata.get("name"))] = _ref_name(spec.get("owner", ""))
        else:
            self._add_service(document, str(kind), metadata, spec)

    def _add_group(self, doc: Located, metadata: dict[str, Any], spec: dict[str, Any]) -> None:
        index = len(self.teams)
        profile = spec.get("profile") or {}
        self.teams.append(
            {
                "name": metadata.get("name"),
                "description": metadata.get("description", ""),
                "escalation_contact": profile.get("email", ""),
            }
        )
        self._remember(f"teams.{index}", doc, ())
        self._remember(f"teams.{index}.name", doc, ("metadata", "name"))

    def _add_service(
        self, doc: Located, kind: str, metadata: dict[str, Any], spec: dict[str, Any]
    ) -> None:
        index = len(self.services)
        depends = [_ref_name(ref) for ref in spec.get("dependsOn") or []]
        depends += [_ref_name(ref) for ref in spec.get("consumesApis") or []]
        annotations = metadata.get("annotations") or {}
        self.services.append(
            {
                "name": metadata.get("name"),
                "kind": kind.lower(),
                "description": metadata.get("description", ""),
                "owner_team": _ref_name(spec["owner"]) if spec.get("owner") else None,
                "system": _ref_name(spec.get("system", "")),
                "lifecycle": spec.get("lifecycle", "production"),
                "tags": metadata.get("tags") or [],
                "tier": int(annotations.get("warroom.dev/tier", 3)),
                "repository_url": _source_location(annotations),
                "runbook_url": _runbook_link(metadata.get("links") or []),
                "depends_on": depends,
            }
        )
        prefix = f"services.{index}"
        self._remember(prefix, doc, ())
        for target, source in (
            ("name", ("metadata", "name")),
            ("owner_team", ("spec", "owner")),
            ("lifecycle", ("spec", "lifecycle")),
            ("tags", ("metadata", "tags")),
            ("system", ("spec", "system")),
        ):
            self._remember(f"{prefix}.{target}", doc, source)
        for position in range(len(spec.get("dependsOn") or [])):
            self._remember(f"{prefix}.depends_on.{position}", doc, ("spec", "dependsOn", position))

    def _remember(self, dotted: str, doc: Located, path: tuple[str | int, ...]) -> None:
        self.lines[dotted] = doc.lines.get(path, doc.start_line)

    def result(self) -> tuple[dict[str, Any], dict[str, int]]:
        return {"teams": self.teams, "services": self.services}, self.lines


def _ref_name(ref: object) -> str:
    """`component:default/payments` -> `payments`; plain names pass through."""
    text = str(ref or "")
    kind, sep, rest = text.partition(":")
    if sep and kind.lower() in _NAMESPACED_REF_KINDS | {"user"}:
        text = rest
    return text.rsplit("/", 1)[-1]


def _source_location(annotations: dict[str, Any]) -> str:
    location = str(annotations.get("backstage.io/source-location", ""))
    return location.removeprefix("url:")


def _runbook_link(links: list[Any]) -> str:
    for link in links:
        if not isinstance(link, dict):
            continue
        label = f"{link.get('title', '')} {link.get('type', '')}".lower()
        if "runbook" in label:
            return str(link.get("url", ""))
    return ""


def iter_backstage_documents(
    teams: list[dict[str, Any]], services: list[dict[str, Any]]
) -> Iterator[dict[str, Any]]:
    """Backstage entities for an exported catalog (Group, System, Component/API/Resource)."""
    for team in teams:
        yield {
            "apiVersion": BACKSTAGE_API_VERSION,
            "kind": "Group",
            "metadata": {"name": team["name"], "description": team["description"]},
            "spec": {
                "type": "team",
                "profile": {"email": team["escalation_contact"]},
                "children": [],
            },
        }
    systems = sorted({s["system"] for s in services if s["system"]})
    for system in systems:
        owners = [s["owner_team"] for s in services if s["system"] == system and s["owner_team"]]
        yield {
            "apiVersion": BACKSTAGE_API_VERSION,
            "kind": "System",
            "metadata": {"name": system},
            "spec": {"owner": f"group:{owners[0]}" if owners else "unknown"},
        }
    kinds = {service["name"]: service["kind"] for service in services}
    for service in services:
        yield _backstage_service(service, kinds)


_BACKSTAGE_TYPES = {"Component": "service", "API": "openapi", "Resource": "database"}


def _backstage_service(service: dict[str, Any], kinds: dict[str, str]) -> dict[str, Any]:
    kind = {"component": "Component", "api": "API", "resource": "Resource"}[service["kind"]]
    metadata: dict[str, Any] = {
        "name": service["name"],
        "description": service["description"],
        "tags": service["tags"],
        "annotations": {"warroom.dev/tier": str(service["tier"])},
    }
    if service["repository_url"]:
        metadata["annotations"]["backstage.io/source-location"] = f"url:{service['repository_url']}"
    if service["runbook_url"]:
        metadata["links"] = [{"url": service["runbook_url"], "title": "Runbook"}]
    spec: dict[str, Any] = {
        "type": _BACKSTAGE_TYPES[kind],
        "lifecycle": service["lifecycle"],
        "owner": f"group:{service['owner_team']}" if service["owner_team"] else "unknown",
        "dependsOn": [f"{kinds.get(name, 'component')}:{name}" for name in service["depends_on"]],
    }
    if service["system"]:
        spec["system"] = service["system"]
    return {"apiVersion": BACKSTAGE_API_VERSION, "kind": kind, "metadata": metadata, "spec": spec}
