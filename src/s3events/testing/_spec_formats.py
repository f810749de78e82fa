"""Read the vendors' spec files and turn each operation into JSON Schema 2020-12.

Four formats are understood: Swagger 2.0 and OpenAPI 3.0/3.1 (JSON or YAML, with local and
relative-file ``$ref``), Google API discovery documents, and the unofficial Telegram Bot API
description. Every format ends up as a list of :class:`Operation` whose schemas resolve through
one :class:`referencing.Registry`; :mod:`s3events.testing.specs` matches and validates.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

__all__ = ["FORM_TYPES", "LoadedSpec", "Operation", "load_spec", "read_spec_file"]

#: Content types whose bodies are flat ``name=value`` fields.
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True)
class Operation:
    """One operation of a spec: where it lives, what it accepts and what it answers."""

    method: str
    template: str
    name: str
    pattern: re.Pattern[str]
    bodies: Mapping[str, Any] = field(default_factory=dict)
    body_required: bool = False
    form_fields: bool = False
    responses: Mapping[str, Any] = field(default_factory=dict)

    @property
    def specificity(self) -> int:
        """How many literal characters the template has (more wins when several match)."""
        return len(re.sub(r"\{[^}]*\}", "", self.template))


@dataclass(frozen=True)
class LoadedSpec:
    """A spec file, read and converted: its operations and the registry for its ``$ref``."""

    name: str
    kind: str
    registry: Registry[Any]
    operations: tuple[Operation, ...]
    prefixes: tuple[str, ...] = ()


def load_spec(specs_dir: Path, name: str) -> LoadedSpec:
    """Read ``specs_dir / name`` and convert it; the format is recognised from the content."""
    path = (specs_dir / name).resolve()
    doc = read_spec_file(path)
    if "swagger" in doc or "openapi" in doc:
        return _load_openapi(specs_dir, name, path, doc)
    if doc.get("kind") == "discovery#restDescription":
        return _load_discovery(name, doc)
    if "methods" in doc and "types" in doc:
        return _load_telegram(name, doc)
    raise ValueError(f"{name}: not a Swagger, OpenAPI, discovery or Telegram description")


def read_spec_file(path: Path) -> dict[str, Any]:
    """A spec file (JSON, or YAML for ``.yaml``/``.yml``) as a mapping; ValueError if not."""
    text = path.read_text(encoding="utf-8")
    if path.suffix in (".yaml", ".yml"):
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        data = yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    else:
        data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path.name}: expected a mapping at the top level")
    return data


# --- Swagger 2.0 and OpenAPI 3.x -------------------------------------------------------------


def _pointer(*parts: str | int) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _deref(doc: dict[str, Any], node: Any, pointer: str) -> tuple[Any, str]:
    """Follow local ``$ref`` chains of non-schema objects (parameters, request bodies)."""
    seen = 0
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and seen < 20:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            break
        pointer = ref[1:]
        node = doc
        for part in pointer.split("/")[1:]:
            node = node[part.replace("~1", "/").replace("~0", "~")]
        seen += 1
    return node, pointer


def _convert_tree(node: Any, *, legacy: bool) -> Any:
    """Rewrite OpenAPI schema dialect into JSON Schema 2020-12, everywhere in a document.

    ``legacy`` (Swagger 2.0, OpenAPI 3.0): ``$ref`` siblings are ignored, ``nullable`` /
    ``x-nullable`` allow null, boolean ``exclusiveMinimum``/``exclusiveMaximum`` become numeric
    bounds and ``type: file`` accepts anything. Always: read-only properties are not required,
    and ``additionalProperties: {type: object}`` next to ``properties`` is read as "more
    properties allowed" (the Microsoft Graph and Slack generators' idiom for open types; taken
    literally it would reject every listed scalar property inherited through ``allOf``), and
    ``additionalProperties: false`` inside one ``allOf`` branch becomes
    ``unevaluatedProperties: false`` on the whole (what spec authors mean: nothing beyond the
    properties of all branches; taken literally the WhatsApp spec rejects every text message).
    """
    if isinstance(node, list):
        return [_convert_tree(item, legacy=legacy) for item in node]
    if not isinstance(node, dict):
        return node
    if legacy and isinstance(node.get("$ref"), str):
        return {"$ref": node["$ref"]}
    out = {key: _convert_tree(value, legacy=legacy) for key, value in node.items()}
    if legacy:
        out = _legacy_keywords(out)
    if out.get("additionalProperties") == {"type": "object"} and "properties" in out:
        del out["additionalProperties"]
    return _drop_read_only_required(_close_all_of(out))


def _close_all_of(node: dict[str, Any]) -> dict[str, Any]:
    branches = node.get("allOf")
    if not isinstance(branches, list):
        return node
    for branch in branches:
        if isinstance(branch, dict) and branch.get("additionalProperties") is False:
            del branch["additionalProperties"]
            node["unevaluatedProperties"] = False
    return node


def _legacy_keywords(node: dict[str, Any]) -> dict[str, Any]:
    for bound in ("Minimum", "Maximum"):
        flag = node.get(f"exclusive{bound}")
        if isinstance(flag, bool):
            limit = node.pop(bound.lower(), None)
            del node[f"exclusive{bound}"]
            if limit is not None:
                node[f"exclusive{bound}" if flag else bound.lower()] = limit
    if node.get("type") == "file":
        del node["type"]
    nullable = node.pop("nullable", None) is True
    nullable = node.pop("x-nullable", None) is True or nullable
    return _make_nullable(node) if nullable else node


def _make_nullable(node: dict[str, Any]) -> dict[str, Any]:
    kind = node.get("type")
    if isinstance(kind, str):
        node["type"] = [kind, "null"]
        if isinstance(node.get("enum"), list) and None not in node["enum"]:
            node["enum"] = [*node["enum"], None]
        return node
    if kind is None and not node.keys() & {"allOf", "anyOf", "oneOf", "$ref", "enum"}:
        return node
    return {"anyOf": [node, {"type": "null"}]}


def _drop_read_only_required(node: dict[str, Any]) -> dict[str, Any]:
    required, properties = node.get("required"), node.get("properties")
    if isinstance(required, list) and isinstance(properties, dict):
        node["required"] = [
            name for name in required
            if not (isinstance(properties.get(name), dict) and properties[name].get("readOnly"))
        ]
    return node


def _load_openapi(specs_dir: Path, name: str, path: Path, raw: dict[str, Any]) -> LoadedSpec:
    swagger = "swagger" in raw
    legacy = swagger or str(raw.get("openapi", "")).startswith("3.0")
    doc = _convert_tree(raw, legacy=legacy)
    uri = path.as_uri()
    retrieve = _file_retriever(specs_dir, legacy=legacy)
    registry: Registry[Any] = Registry(retrieve=retrieve)  # type: ignore[call-arg]
    registry = registry.with_resource(uri, DRAFT202012.create_resource(doc))
    build = _swagger_operation if swagger else _openapi3_operation
    operations = [
        build(doc, uri, template, method, op, item)
        for template, item in (doc.get("paths") or {}).items()
        for method, op in item.items() if method in _HTTP_METHODS
    ]
    prefixes = [raw.get("basePath", "")] if swagger else [
        urlsplit(server.get("url", "")).path for server in raw.get("servers") or ()
    ]
    return LoadedSpec(name=name, kind="Swagger 2.0" if swagger else f"OpenAPI {raw['openapi']}",
                      registry=registry, operations=tuple(operations),
                      prefixes=tuple(p.rstrip("/") for p in prefixes if p.strip("/")))


def _file_retriever(specs_dir: Path, *, legacy: bool) -> Callable[[str], Resource[Any]]:
    """Load files that ``$ref`` points to (relative references), only from the specs folder."""
    root = specs_dir.resolve()

    def retrieve(uri: str) -> Resource[Any]:
        parts = urlsplit(uri)
        target = Path(unquote(parts.path)).resolve()
        if parts.scheme != "file" or not target.is_relative_to(root) or not target.is_file():
            raise LookupError(f"cannot resolve {uri}: only files under {root} are read")
        return DRAFT202012.create_resource(_convert_tree(read_spec_file(target), legacy=legacy))

    return retrieve


def _ref(uri: str, pointer: str) -> dict[str, Any]:
    return {"$ref": f"{uri}#{pointer}"}


def _swagger_operation(doc: dict[str, Any], uri: str, template: str, method: str,
                       op: dict[str, Any], item: dict[str, Any]) -> Operation:
    base = _pointer("paths", template)
    params = [
        _deref(doc, p, f"{base}/{where}/parameters/{i}")
        for where, holder in (("", item), (method, op))
        for i, p in enumerate(holder.get("parameters") or ())
    ]
    consumes = op.get("consumes") or doc.get("consumes") or ["application/json"]
    body = next(((p, ptr) for p, ptr in params if p.get("in") == "body"), None)
    form = [p for p, _ in params if p.get("in") == "formData"]
    bodies: dict[str, Any] = {}
    if body is not None:
        bodies = {ct: _ref(uri, body[1] + "/schema") for ct in consumes}
    elif form:
        bodies = {ct: _form_schema(form, json_body=ct not in FORM_TYPES) for ct in consumes}
    responses = {
        str(status): _ref(uri, _pointer("paths", template, method, "responses", status, "schema"))
        for status, answer in (op.get("responses") or {}).items()
        if isinstance(answer, dict) and "schema" in answer
    }
    required = bool(body and body[0].get("required")) or any(p.get("required") for p in form)
    return Operation(method=method.upper(), template=template,
                     name=op.get("operationId", f"{method.upper()} {template}"),
                     pattern=_template_pattern(template), bodies=bodies, body_required=required,
                     form_fields=bool(form) and body is None, responses=responses)


def _form_schema(params: list[dict[str, Any]], *, json_body: bool) -> dict[str, Any]:
    """An object schema for Swagger ``formData`` parameters (a JSON body uses the same names)."""
    properties: dict[str, Any] = {}
    for param in params:
        schema = {k: v for k, v in param.items()
                  if k in ("type", "items", "enum", "minimum", "maximum", "pattern",
                           "minLength", "maxLength", "format")}
        json_encoded = "json" in str(param.get("description", "")).lower()
        if json_body and schema.get("type") == "string" and json_encoded:
            schema = {"anyOf": [schema, {"type": ["array", "object"]}]}
        properties[param["name"]] = schema
    required = [p["name"] for p in params if p.get("required")]
    return {"type": "object", "properties": properties, "required": required}


def _openapi3_operation(doc: dict[str, Any], uri: str, template: str, method: str,
                        op: dict[str, Any], item: dict[str, Any]) -> Operation:
    base = _pointer("paths", template, method)
    body, pointer = _deref(doc, op.get("requestBody"), base + "/requestBody")
    bodies = {
        ct: _ref(uri, pointer + _pointer("content", ct, "schema")) if "schema" in media else {}
        for ct, media in ((body or {}).get("content") or {}).items()
    }
    responses: dict[str, Any] = {}
    for status, answer in (op.get("responses") or {}).items():
        answer, at = _deref(doc, answer, base + _pointer("responses", status))
        for ct, media in ((answer or {}).get("content") or {}).items():
            if "json" in ct and isinstance(media, dict) and "schema" in media:
                responses[str(status)] = _ref(uri, at + _pointer("content", ct, "schema"))
                break
    return Operation(method=method.upper(), template=template,
                     name=op.get("operationId", f"{method.upper()} {template}"),
                     pattern=_template_pattern(template), bodies=bodies,
                     body_required=bool((body or {}).get("required")), responses=responses)


def _template_pattern(template: str) -> re.Pattern[str]:
    """A regex for a path template: ``{x}`` is one segment, ``{+x}`` any number of them.

    A leading ``{Version}`` segment may be left out, and Microsoft Graph's ``microsoft.graph.``
    action prefix is optional, as callers write both forms.
    """
    segments = [s for s in template.strip("/").split("/") if s]
    parts = []
    for index, segment in enumerate(segments):
        regex = re.sub(
            r"\\\{(\\\+)?[^}]*\\\}",
            lambda m: ".+" if m.group(1) else "[^/]+",
            re.escape(segment),
        )
        regex = regex.replace(re.escape("microsoft.graph."), r"(?:microsoft\.graph\.)?")
        optional = index == 0 and segment.lower() == "{version}" and len(segments) > 1
        parts.append(f"(?:/{regex})?" if optional else f"/{regex}")
    return re.compile("^" + "".join(parts) + "/?$")


# --- Google discovery documents ----------------------------------------------------------------


def _load_discovery(name: str, doc: dict[str, Any]) -> LoadedSpec:
    registry: Registry[Any] = Registry()
    operations = []
    for method in _discovery_methods(doc.get("resources") or {}):
        uri = f"urn:s3events:spec:{name}:{method['id']}"
        defs = {key: _discovery_schema(schema, method["id"])
                for key, schema in (doc.get("schemas") or {}).items()}
        registry = registry.with_resource(uri, DRAFT202012.create_resource({"$defs": defs}))
        request, response = method.get("request"), method.get("response")
        bodies = {"application/json": _ref(uri, f"/$defs/{request['$ref']}")} if request else {}
        responses = {"200": _ref(uri, f"/$defs/{response['$ref']}")} if response else {}
        for template in dict.fromkeys(filter(None, (method.get("flatPath"), method["path"]))):
            operations.append(Operation(
                method=method["httpMethod"].upper(), template=template, name=method["id"],
                pattern=_template_pattern(template), bodies=bodies,
                body_required=bool(request), responses=responses))
    prefixes = (doc.get("servicePath") or "").rstrip("/")
    return LoadedSpec(name=name, kind="Google discovery", registry=registry,
                      operations=tuple(operations),
                      prefixes=(f"/{prefixes.strip('/')}",) if prefixes else ())


def _discovery_methods(resources: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for resource in resources.values():
        yield from (resource.get("methods") or {}).values()
        yield from _discovery_methods(resource.get("resources") or {})


def _discovery_schema(node: dict[str, Any], method_id: str) -> dict[str, Any]:
    """One discovery schema as JSON Schema; ``annotations.required`` counts for this method."""
    if "$ref" in node:
        return {"$ref": f"#/$defs/{node['$ref']}"}
    out: dict[str, Any] = {}
    if node.get("type") not in (None, "any"):
        out["type"] = node["type"]
    if "enum" in node:
        out["enum"] = node["enum"]
    if isinstance(node.get("items"), dict):
        out["items"] = _discovery_schema(node["items"], method_id)
    if isinstance(node.get("additionalProperties"), dict):
        out["additionalProperties"] = _discovery_schema(node["additionalProperties"], method_id)
    properties = node.get("properties") or {}
    if properties:
        out["properties"] = {k: _discovery_schema(v, method_id) for k, v in properties.items()}
        required = [k for k, v in properties.items()
                    if v.get("required") is True
                    or method_id in (v.get("annotations") or {}).get("required", ())]
        if required:
            out["required"] = required
    return out


# --- Telegram Bot API (unofficial description) -----------------------------------------------

_TELEGRAM_SCALARS = {"Integer": "integer", "String": "string", "Boolean": "boolean",
                     "Float": "number", "True": "boolean"}


def _load_telegram(name: str, doc: dict[str, Any]) -> LoadedSpec:
    uri = f"urn:s3events:spec:{name}"
    known = set(doc["types"])
    defs = {key: _telegram_object(t.get("fields") or (), known) for key, t in doc["types"].items()}
    registry: Registry[Any] = Registry().with_resource(
        uri, DRAFT202012.create_resource({"$defs": defs}))
    operations = []
    for method_name, method in doc["methods"].items():
        fields = method.get("fields") or ()
        schema = _telegram_object(fields, known, base=uri)
        returns = _telegram_type_union(method.get("returns") or [], known, base=uri)
        envelope = {"type": "object", "required": ["ok"], "properties": {
            "ok": {"type": "boolean"}, "result": returns, "description": {"type": "string"},
            "error_code": {"type": "integer"}}}
        bodies = {ct: schema for ct in ("application/json", *FORM_TYPES)}
        for verb in ("GET", "POST"):
            operations.append(Operation(
                method=verb, template=method_name, name=method_name,
                pattern=re.compile(rf"^(?:.*/)?{re.escape(method_name)}/?$"), bodies=bodies,
                body_required=any(f.get("required") for f in fields), form_fields=True,
                responses={"200": envelope}))
    return LoadedSpec(name=name, kind="Telegram Bot API (unofficial)", registry=registry,
                      operations=tuple(operations))


def _telegram_object(fields: Any, known: set[str], *, base: str = "") -> dict[str, Any]:
    properties = {f["name"]: _telegram_type_union(f["types"], known, base=base) for f in fields}
    required = [f["name"] for f in fields if f.get("required")]
    return {"type": "object", "properties": properties, "required": required}


def _telegram_type_union(types: list[str], known: set[str], *, base: str) -> dict[str, Any]:
    options = [_telegram_type(t, known, base=base) for t in types]
    if not options:
        return {}
    return options[0] if len(options) == 1 else {"anyOf": options}


def _telegram_type(name: str, known: set[str], *, base: str) -> dict[str, Any]:
    if name.startswith("Array of "):
        return {"type": "array", "items": _telegram_type(name[9:], known, base=base)}
    if name in _TELEGRAM_SCALARS:
        return {"type": _TELEGRAM_SCALARS[name]}
    if name == "InputFile":
        return {}
    if name in known:
        return {"$ref": f"{base}#/$defs/{name}"}
    return {"type": "object"}  # a Telegram type the subset does not describe
