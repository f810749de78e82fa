"""Check what an adapter sends (and what a mock answers) against the vendor's own API spec.

The specs ship with the testing kit, in ``s3events/testing/vendor_specs/`` (:data:`SPECS_DIR`;
the folder's README says where each file comes from). The environment variable
``S3EVENTS_SPECS_DIR`` replaces that folder with another one. ``spec`` arguments are file
names relative to the folder, e.g. ``"zoom-api-v2-openapi-2018.json"`` or
``"matrix-client-server/room_send.yaml"``, or the path of a spec file anywhere else (a plugin's
own vendor spec, kept with its tests). A spec that is not there is an error
(:class:`FileNotFoundError` naming it), never a skipped check.

``path`` is the URL path after the API base: ``"/users/me/meetings"``, ``"/meetings/123"``,
``"/users/abc/onlineMeetings/createOrGet"``, ``"/calendars/primary/events"``,
``"/v23.0/123456/messages"``, or for Telegram the method (``"/bot<token>/sendMessage"`` or just
``"sendMessage"``). A path that still carries the spec's base path (``/v2/…``, ``/calendar/v3/…``,
``/_matrix/client/v3/…``) is matched too. Typical use in a plugin test::

    from s3events.testing.specs import validate_request

    call = rsps.calls[-1].request
    validate_request("zoom-api-v2-openapi-2018.json", method=call.method,
                     path="/users/me/meetings", body=json.loads(call.body))

or, shorter, ``validate_prepared_request(spec, call, base_url="https://api.zoom.us/v2")``.

What is checked: the JSON Schema of the request body (types, required fields, enums, patterns,
``additionalProperties: false`` where the spec says so). Not checked: ``format`` (vendors'
own examples break it), headers and query parameters. Read-only fields are never required in a
request.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, relevance

from ._spec_formats import FORM_TYPES, LoadedSpec, Operation, load_spec

__all__ = [
    "PACKAGED_SPECS_DIR",
    "SPECS_DIR",
    "SpecName",
    "response_schema",
    "spec_path",
    "validate_prepared_request",
    "validate_request",
    "validate_response",
]

_MAX_ERRORS = 5
_ENV = "S3EVENTS_SPECS_DIR"

#: A spec: a file name relative to :data:`SPECS_DIR`, or the path of a spec file elsewhere.
SpecName = str | os.PathLike[str]

#: The vendor specs that ship with the testing kit.
PACKAGED_SPECS_DIR: Path = Path(__file__).resolve().parent / "vendor_specs"


def _configured_specs_dir() -> Path:
    """``$S3EVENTS_SPECS_DIR`` when it is set, else :data:`PACKAGED_SPECS_DIR`."""
    configured = os.environ.get(_ENV)
    return Path(configured).expanduser() if configured else PACKAGED_SPECS_DIR


#: Where spec names are looked up (read once, at import; tests may monkeypatch it).
SPECS_DIR: Path = _configured_specs_dir()


def spec_path(spec: SpecName) -> Path:
    """The file of ``spec``; :class:`FileNotFoundError` saying what is missing if there is none.

    A relative name is looked up in :data:`SPECS_DIR`; an absolute path is used as it is.
    """
    given = Path(spec)
    if given.is_absolute():
        if not given.is_file():
            raise FileNotFoundError(f"the spec file {given} does not exist")
        return given
    if not SPECS_DIR.is_dir():
        configured = os.environ.get(_ENV)
        source = (f" (set by {_ENV})"
                  if configured and Path(configured).expanduser() == SPECS_DIR else "")
        raise FileNotFoundError(
            f"the vendor specs folder {SPECS_DIR}{source} does not exist, so {str(spec)!r} "
            f"cannot be checked")
    path = SPECS_DIR / given
    if not path.is_file():
        known = sorted(p.relative_to(SPECS_DIR).as_posix() for p in SPECS_DIR.rglob("*.*")
                       if p.suffix in (".json", ".yaml", ".yml"))
        raise FileNotFoundError(f"no spec {str(spec)!r} in {SPECS_DIR}; there are: {known}")
    return path


@functools.lru_cache(maxsize=32)
def _load(specs_dir: Path, spec: str) -> LoadedSpec:
    return load_spec(specs_dir, spec)


def _spec(spec: SpecName) -> LoadedSpec:
    path = spec_path(spec)
    if Path(spec).is_absolute():
        return _load(path.parent, path.name)
    return _load(SPECS_DIR, Path(spec).as_posix())


def validate_request(spec: SpecName, *, method: str, path: str, body: Any,
                     content_type: str = "application/json") -> None:
    """Fail (AssertionError) unless ``body`` is a valid request body for this operation.

    ``body`` is the decoded body (dict/list), or the raw ``str``/``bytes`` as sent (JSON text,
    or ``a=1&b=2`` form fields); ``None`` means no body. The message names the spec, the
    operation and, per problem, the field path (``body.settings.waiting_room``) and what is
    wrong.
    """
    loaded = _spec(spec)
    operation = _operation(loaded, method, path)
    where = f"{loaded.name}: {operation.method} {operation.template} ({operation.name})"
    media = _media_type(content_type)
    if _is_empty(body):
        if operation.body_required:
            raise AssertionError(f"{where}: the spec requires a request body, none was sent")
        return
    if not operation.bodies:
        raise AssertionError(f"{where}: the spec defines no request body, but one was sent")
    schema = _body_schema(operation, media, where)
    decoded = _decode(body, media, where)
    if operation.form_fields and media in FORM_TYPES and isinstance(decoded, dict):
        decoded = _coerce_form(decoded, schema, loaded)
    _check(loaded, schema, decoded, where=f"{where}: request body", root="body")


def validate_prepared_request(spec: SpecName, request: Any, *, base_url: str | None = None) -> None:
    """:func:`validate_request` for a sent ``requests.PreparedRequest`` (``rsps.calls[i].request``).

    The path is the URL's path after ``base_url``'s path (``https://api.zoom.us/v2`` → the part
    after ``/v2``); without ``base_url`` the whole URL path is matched.
    """
    path = urlsplit(str(request.url)).path
    if base_url is not None:
        prefix = urlsplit(base_url).path.rstrip("/")
        if prefix and path.startswith(prefix):
            path = path[len(prefix):] or "/"
    content_type = request.headers.get("Content-Type") or "application/json"
    validate_request(spec, method=str(request.method), path=path, body=request.body,
                     content_type=content_type)


def response_schema(spec: SpecName, *, method: str, path: str, status: int | str) -> Any:
    """The JSON Schema (2020-12) the spec gives for this response, or ``None`` if it gives none.

    The schema's ``$ref`` point into the spec file; validate with :func:`validate_response`,
    which resolves them.
    """
    loaded = _spec(spec)
    operation = _operation(loaded, method, path)
    code = str(status)
    for key in (code, f"{code[0]}XX", f"{code[0]}xx", "default"):
        if key in operation.responses:
            return operation.responses[key]
    return None


def validate_response(spec: SpecName, *, method: str, path: str, status: int | str,
                      body: Any) -> None:
    """Fail (AssertionError) unless ``body`` matches the spec's schema for that response.

    Use it on the JSON a test's HTTP mock returns, so mocks look like the real service.
    """
    schema = response_schema(spec, method=method, path=path, status=status)
    if schema is None:
        return
    loaded = _spec(spec)
    operation = _operation(loaded, method, path)
    where = f"{loaded.name}: {operation.method} {operation.template} ({operation.name}) → {status}"
    _check(loaded, schema, _decode(body, "application/json", where), where=where, root="body")


# --- matching ---------------------------------------------------------------------------------


def _candidates(loaded: LoadedSpec, path: str) -> Iterable[tuple[str, bool]]:
    """The path as given, without a base path, then (as a fallback) ever shorter suffixes."""
    path = path.split("?", 1)[0]
    forms = dict.fromkeys([path, unquote(path)])
    for form in forms:
        full = form if form.startswith("/") else "/" + form
        yield full, False
        for prefix in loaded.prefixes:
            if full.startswith(prefix + "/"):
                yield full[len(prefix):], False
    for form in forms:
        segments = form.strip("/").split("/")
        for start in range(1, len(segments)):
            yield "/" + "/".join(segments[start:]), True


def _operation(loaded: LoadedSpec, method: str, path: str) -> Operation:
    verb = method.upper()
    for candidate, fallback in _candidates(loaded, path):
        matches = [op for op in loaded.operations if op.pattern.match(candidate)]
        if not matches:
            continue
        best = max(op.specificity for op in matches)  # literal paths win, as in OpenAPI
        fitting = [op for op in matches if op.method == verb and op.specificity == best]
        if fitting:
            return fitting[0]
        if not fallback:
            offered = sorted({f"{op.method} {op.template}" for op in matches})
            raise AssertionError(
                f"{loaded.name}: {verb} {path} is not in the spec; that path offers {offered}")
    raise AssertionError(f"{loaded.name}: no operation in the spec matches {verb} {path}")


# --- bodies -----------------------------------------------------------------------------------


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _is_empty(body: Any) -> bool:
    return body is None or body in (b"", "")


def _body_schema(operation: Operation, media: str, where: str) -> Any:
    by_media = {_media_type(ct): schema for ct, schema in operation.bodies.items()}
    major = media.split("/", 1)[0]
    for key in (media, f"{major}/*", "*/*"):
        if key in by_media:
            return by_media[key]
    raise AssertionError(
        f"{where}: the spec accepts {sorted(by_media)} request bodies, not {media}")


def _decode(body: Any, media: str, where: str) -> Any:
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    if not isinstance(body, str):
        return body
    if media in FORM_TYPES:
        return dict(parse_qsl(body, keep_blank_values=True))
    try:
        return json.loads(body)
    except ValueError as exc:
        raise AssertionError(f"{where}: the body is not valid JSON: {exc}") from None


def _accepted_types(schema: Any, loaded: LoadedSpec) -> set[str]:
    if not isinstance(schema, dict):
        return set()
    if "$ref" in schema:
        return {"object"}
    kind = schema.get("type")
    found = set([kind] if isinstance(kind, str) else kind or [])
    for option in [*schema.get("anyOf", ()), *schema.get("oneOf", ())]:
        found |= _accepted_types(option, loaded)
    return found


def _coerce_form(fields: dict[str, Any], schema: Any, loaded: LoadedSpec) -> dict[str, Any]:
    """Form fields are strings on the wire: read them as the types the spec declares."""
    properties = schema.get("properties", {}) if isinstance(schema, dict) else {}
    return {name: _coerce(value, _accepted_types(properties.get(name), loaded))
            for name, value in fields.items()}


def _coerce(value: Any, types: set[str]) -> Any:
    if not isinstance(value, str) or not types or "string" in types:
        return value
    if "boolean" in types and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if types & {"integer", "number"} and re.fullmatch(r"-?\d+(\.\d+)?", value):
        return float(value) if "." in value else int(value)
    if types & {"object", "array"}:
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


# --- reporting --------------------------------------------------------------------------------


def _check(loaded: LoadedSpec, schema: Any, instance: Any, *, where: str, root: str) -> None:
    validator = Draft202012Validator(schema, registry=loaded.registry)
    errors = [leaf for error in sorted(validator.iter_errors(instance), key=relevance)
              for leaf in _leaves(error)]
    if not errors:
        return
    lines = list(dict.fromkeys(_describe(error, root) for error in errors))
    more = f"\n  … and {len(lines) - _MAX_ERRORS} more" if len(lines) > _MAX_ERRORS else ""
    raise AssertionError(f"{where} does not match the spec:\n  - "
                         + "\n  - ".join(lines[:_MAX_ERRORS]) + more)


def _leaves(error: ValidationError) -> list[ValidationError]:
    """The errors that say what to fix: inside ``oneOf``/``anyOf``, those of the meant branch.

    The meant branch is the one the schema's ``discriminator`` names for the body's value, else
    the branch with the fewest problems; when branches tie the combined error is kept.
    """
    if not error.context or error.validator not in ("oneOf", "anyOf"):
        return [error]
    branches: dict[int, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(int(sub.relative_schema_path[0]), []).append(sub)
    chosen = _discriminated(error)
    if chosen is None:
        ranked = sorted(branches.items(), key=lambda item: len(item[1]))
        if len(ranked) > 1 and len(ranked[0][1]) == len(ranked[1][1]):
            return [error]
        chosen = ranked[0][0]
    picked = branches.get(chosen, [])
    useful = [e for e in picked if e.validator != "unevaluatedProperties"] or picked
    return [leaf for sub in useful for leaf in _leaves(sub)]


def _discriminated(error: ValidationError) -> int | None:
    schema, instance = error.schema, error.instance
    if not isinstance(schema, dict) or not isinstance(instance, dict):
        return None
    discriminator = schema.get("discriminator")
    if not isinstance(discriminator, dict):
        return None
    value = instance.get(str(discriminator.get("propertyName")))
    target = (discriminator.get("mapping") or {}).get(value)
    if not isinstance(target, str):
        return None
    for index, branch in enumerate(schema.get(str(error.validator)) or ()):
        if isinstance(branch, dict) and str(branch.get("$ref", "")).endswith(target.lstrip(".")):
            return index
    return None


def _describe(error: ValidationError, root: str) -> str:
    location = root + "".join(
        f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path)
    message = _shorten(error.message)
    if error.context:
        options = dict.fromkeys(_shorten(sub.message, 120) for sub in error.context)
        message += " (" + "; ".join(options) + ")"
    return f"{location}: {_shorten(message, 600)}"


def _shorten(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
