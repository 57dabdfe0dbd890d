"""Turn the official OpenAPI specs beside the repo into JSON Schemas, so contract tests can hold the sandbox to them.

The specs are reference data kept at `../shared/specs/` next to the repository, never copied into it: a user's
clone may lack them (the tests skip), while CI always has them (a missing folder fails the run instead).

OpenAPI schema objects are close to JSON Schema but not equal, so each response schema is rebuilt into a
self-contained Draft 2020-12 schema whose `$defs` hold only the `$ref` targets it reaches:
- OpenAPI 3.0 `nullable: true` becomes a `"null"` type (or an `anyOf` with null where there is no `type`); so
  does the Swagger 2 vendor extension `x-nullable: true`, which BigCommerce's inline schemas still use (e.g.
  product-variants_catalog.v3.yml, GET /catalog/variants: `cost_price`, `sale_price`, `weight`...);
- OpenAPI 3.0 ignores the siblings of a `$ref`, so they are dropped there (3.1 keeps them);
- boolean `exclusiveMinimum`/`exclusiveMaximum` (3.0) become the numeric 2020-12 form;
- `writeOnly` properties are never required in a response;
- on request (`optional_nullable=True`), every optional property also accepts null. Mirakl's specs need this:
  they never mark a field nullable, yet their own examples send null for optional fields (front spec, OR11
  200 example: `order_lines[].description: null`, `order_line_state_reason_code: null`, ...), so those specs
  under-declare null rather than forbid it. Required fields stay non-null.
- `example`, `discriminator`, `readOnly` and friends are annotations and stay harmless.
Relaxation: `format` is not asserted. The specs use non-standard formats (Mirakl's `with decimals`) and the
standard ones would need optional checker packages; types, required fields, enums and lengths are still checked.
"""

from __future__ import annotations

import copy
import functools
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import pytest
import yaml
from jsonschema import Draft202012Validator

__all__ = ["Relaxation", "assert_conforms", "component_schema", "load_spec", "relaxed", "response_schema", "specs_root"]

Schema = dict[str, Any]

SPECS_ROOT = Path(__file__).resolve().parents[2].parent / "shared" / "specs"
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs")
_SCHEMA_VALUES = ("additionalProperties", "items", "not", "contains", "propertyNames")
_MESSAGE_LIMIT = 200
_REPORT_LIMIT = 40


def specs_root() -> Path:
    """The shared specs folder; skips the calling test where it is absent, except under CI where that fails."""
    if SPECS_ROOT.is_dir():
        return SPECS_ROOT
    reason = f"official OpenAPI specs not found at {SPECS_ROOT} (they live beside the repo as ../shared/specs)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI must provide them")
    pytest.skip(reason)


@functools.cache
def load_spec(relative: str) -> Schema:
    """Parse one spec (YAML or JSON) once per session; the Mirakl ones are megabytes."""
    path = specs_root() / relative
    with path.open(encoding="utf-8") as handle:
        if path.suffix == ".json":
            return json.load(handle)
        return yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def response_schema(
    spec: Schema,
    path: str,
    method: str,
    status: int,
    content_type: str = "application/json",
    *,
    optional_nullable: bool = False,
) -> Schema | None:
    """The JSON Schema of one documented response, or None where the spec gives that response no schema."""
    operation = spec["paths"][path][method.lower()]
    responses = operation["responses"]
    response = responses.get(str(status), responses.get(status))
    if response is None:
        raise KeyError(f"{method.upper()} {path} documents no {status} response")
    response = _follow(spec, response)
    if "content" in response:
        media = response["content"].get(content_type)
        node = None if media is None else media.get("schema")
    else:
        node = response.get("schema")
    return None if node is None else _Converter(spec, optional_nullable).document(node)


def component_schema(spec: Schema, name: str, *, optional_nullable: bool = False) -> Schema:
    """A named `components.schemas` entry, for the Mirakl operations whose path entry the front spec lost."""
    return _Converter(spec, optional_nullable).document({"$ref": f"#/components/schemas/{quote(name, safe='')}"})


@dataclass(frozen=True)
class Relaxation:
    """One narrow loosening of a converted schema where the spec contradicts itself; `why` cites the spec."""

    pointer: str
    why: str
    allow_null: bool = False
    overrides: dict[str, Any] = field(default_factory=dict)


def relaxed(schema: Schema, *relaxations: Relaxation) -> Schema:
    """A copy of `schema` with each relaxation applied at its JSON pointer (into the converted schema)."""
    result = copy.deepcopy(schema)
    for relaxation in relaxations:
        *parents, last = [t.replace("~1", "/").replace("~0", "~") for t in relaxation.pointer.lstrip("/").split("/")]
        parent: Any = result
        for token in parents:
            parent = parent[int(token)] if isinstance(parent, list) else parent[token]
        key: Any = int(last) if isinstance(parent, list) else last
        node = {**parent[key], **relaxation.overrides}
        parent[key] = _nullable(node) if relaxation.allow_null else node
    return result


def assert_conforms(schema: Schema, body: Any, what: str) -> None:
    """Fail with every mismatch, each led by the JSON path of the offending value, so one run shows them all."""
    problems = _mismatches(schema, body)
    shown = problems[:_REPORT_LIMIT]
    if len(problems) > _REPORT_LIMIT:
        shown.append(f"... and {len(problems) - _REPORT_LIMIT} more")
    assert not problems, f"{what} breaks its spec schema:\n" + "\n".join(shown)


def _mismatches(schema: Schema, body: Any) -> list[str]:
    validator = Draft202012Validator(schema)
    found = []
    for error in sorted(validator.iter_errors(body), key=lambda e: list(map(str, e.absolute_path))):
        message = error.message if len(error.message) <= _MESSAGE_LIMIT else error.message[:_MESSAGE_LIMIT] + "..."
        found.append(f"{error.json_path}: {message} (schema: {'/'.join(map(str, error.absolute_schema_path))})")
        found.extend(f"  {sub.json_path}: {sub.message[:_MESSAGE_LIMIT]}" for sub in error.context or ())
    return found


def _pointer(spec: Schema, ref: str) -> Any:
    if not ref.startswith("#/"):
        raise ValueError(f"only local $refs are supported, got {ref!r}")
    node: Any = spec
    for token in ref[2:].split("/"):
        node = node[unquote(token).replace("~1", "/").replace("~0", "~")]
    return node


def _follow(spec: Schema, node: Schema) -> Schema:
    """Resolve a chain of `$ref`s on a non-schema object (a response)."""
    while "$ref" in node:
        node = _pointer(spec, node["$ref"])
    return node


class _Converter:
    """Rebuilds OpenAPI schema objects as JSON Schema, collecting each `$ref` target once (cycles stay refs)."""

    def __init__(self, spec: Schema, optional_nullable: bool) -> None:
        self.spec = spec
        self.optional_nullable = optional_nullable
        self.version_30 = str(spec.get("openapi", spec.get("swagger", ""))).startswith(("2", "3.0"))
        self.defs: dict[str, Schema] = {}

    def document(self, node: Schema) -> Schema:
        root = self.convert(node)
        return {"$schema": "https://json-schema.org/draft/2020-12/schema", **root, "$defs": self.defs}

    def convert(self, node: Any) -> Any:
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            target = {"$ref": self._define(node["$ref"])}
            if not self.version_30:
                target.update(self._convert_keywords({k: v for k, v in node.items() if k != "$ref"}))
            return _nullable(target) if _is_nullable(node) else target
        converted = self._convert_keywords(node)
        return _nullable(converted) if _is_nullable(node) else converted

    def _convert_keywords(self, node: Schema) -> Schema:
        out: Schema = {}
        for key, value in node.items():
            if key in _SCHEMA_MAPS and isinstance(value, dict):
                out[key] = {name: self.convert(sub) for name, sub in value.items()}
            elif key in _SCHEMA_LISTS and isinstance(value, list):
                out[key] = [self.convert(sub) for sub in value]
            elif key in _SCHEMA_VALUES:
                out[key] = [self.convert(sub) for sub in value] if isinstance(value, list) else self.convert(value)
            elif key in ("exclusiveMinimum", "exclusiveMaximum") and isinstance(value, bool):
                bound = "minimum" if key == "exclusiveMinimum" else "maximum"
                if value and bound in node:
                    out[key] = node[bound]
            elif key not in ("nullable", "discriminator", "example", "examples", "xml", "externalDocs"):
                out[key] = value
        for key, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
            if node.get(key) is True:
                out.pop(bound, None)
        if isinstance(out.get("required"), list) and isinstance(out.get("properties"), dict):
            write_only = {name for name, sub in node["properties"].items() if _is_write_only(sub)}
            out["required"] = [name for name in out["required"] if name not in write_only]
        if self.optional_nullable and isinstance(out.get("properties"), dict):
            required = set(out.get("required") or ())
            out["properties"] = {
                name: sub if name in required or not isinstance(sub, dict) else _nullable(sub)
                for name, sub in out["properties"].items()
            }
        return out

    def _define(self, ref: str) -> str:
        name = unquote(ref.removeprefix("#/")).replace("/", ".")
        if name not in self.defs:
            self.defs[name] = {}
            self.defs[name] = self.convert(_pointer(self.spec, ref))
        return "#/$defs/" + quote(name.replace("~", "~0"), safe="")


def _is_nullable(node: Schema) -> bool:
    return node.get("nullable") is True or node.get("x-nullable") is True


def _is_write_only(node: Any) -> bool:
    return isinstance(node, dict) and node.get("writeOnly") is True


def _nullable(schema: Schema) -> Schema:
    kind = schema.get("type")
    if isinstance(kind, str):
        schema = {**schema, "type": [kind, "null"]}
    elif isinstance(kind, list):
        schema = {**schema, "type": [*kind, "null"] if "null" not in kind else kind}
    else:
        return {"anyOf": [schema, {"type": "null"}]}
    if isinstance(schema.get("enum"), list) and None not in schema["enum"]:
        schema["enum"] = [*schema["enum"], None]
    return schema
