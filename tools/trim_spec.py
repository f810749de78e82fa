"""Trim a vendor's full API spec to the part s3events checks against, for the testing kit.

The specs in ``src/s3events/testing/vendor_specs/`` are subsets of the vendors' published
files: the operations listed for them in ``tools/spec_subsets.yaml`` plus every component
those operations reference, followed transitively (``$ref`` and discriminator mappings in
OpenAPI and Swagger, ``$ref`` to schema names in Google discovery documents). Nothing kept is
changed: the subset is the source minus what nothing kept refers to, with an
``x-s3events-subset`` note saying where it comes from and what it keeps.

Refresh a spec from a newer upstream file (or re-make it from the one it came from)::

    python tools/trim_spec.py zoom-api-v2-openapi-2018.json ~/Downloads/openapi.v2.json

Several sources are merged (the Microsoft Graph subset is cut from three files of one
commit). The trimmed file is written to the vendor specs folder (``--out`` for elsewhere);
its size and sha256 are printed for the folder's README. ``--sums`` prints the size and sha256
of every file in the folder. To keep another operation, add it to ``spec_subsets.yaml`` and
run the tool on the full file again; ``--from-committed`` re-trims the committed subset
itself, which is a no-op unless the list or this tool changed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

from s3events.testing._spec_formats import read_spec_file

HERE = Path(__file__).resolve().parent
SUBSETS = HERE / "spec_subsets.yaml"
VENDOR_SPECS = HERE.parent / "src" / "s3events" / "testing" / "vendor_specs"
NOTE_KEY = "x-s3events-subset"

_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
#: Top-level OpenAPI/Swagger containers that ``$ref`` point into, and the depth of one entry
#: (``#/components/schemas/X`` is three levels, Swagger's ``#/definitions/X`` two).
_CONTAINERS = {"components": 3, "definitions": 2, "parameters": 2, "responses": 2}


class TrimError(Exception):
    """The spec cannot be trimmed as asked (an operation or a referenced component is missing)."""


# --- reading and writing ----------------------------------------------------------------------


def read_spec(path: Path) -> dict[str, Any]:
    """A spec file (JSON, or YAML for ``.yaml``/``.yml``) as a mapping."""
    try:
        return read_spec_file(path)
    except ValueError as exc:
        raise TrimError(str(exc)) from None


def dump_spec(name: str, doc: dict[str, Any]) -> str:
    """The text of the trimmed file ``name``: YAML for ``.yaml``, else JSON (one-space indent)."""
    if name.endswith((".yaml", ".yml")):
        return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


def load_subsets(path: Path = SUBSETS) -> dict[str, Any]:
    """The keep-lists and provenance of every trimmed spec, by file name."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise TrimError(f"{path}: expected a mapping of spec file names")
    return data


def trim(name: str, sources: list[dict[str, Any]], subset: dict[str, Any]) -> dict[str, Any]:
    """The subset of ``sources`` (one or more documents of one API) that ``subset`` keeps."""
    keep = [str(entry) for entry in subset.get("keep") or ()]
    if not keep:
        raise TrimError(f"{name}: spec_subsets.yaml lists nothing to keep")
    note = {"source": subset.get("source") or {}, "keeps": keep,
            "note": "Trimmed by tools/trim_spec.py: the operations listed in 'keeps' plus "
                    "every component they reference, followed transitively; what is kept "
                    "is unchanged. See the README.md beside this file."}
    first = sources[0]
    if first.get("kind") == "discovery#restDescription":
        body = _trim_discovery(name, first, keep)
    elif "openapi" in first or "swagger" in first:
        body = _trim_openapi(name, sources, keep)
    else:
        raise TrimError(f"{name}: neither OpenAPI, Swagger nor a Google discovery document")
    return {NOTE_KEY: note, **body}


# --- OpenAPI 3.x and Swagger 2.0 ----------------------------------------------------------------


def _split_entry(entry: str) -> tuple[str | None, str]:
    if entry.startswith("/"):
        return None, entry
    method, _, path = entry.partition(" ")
    if method.lower() not in _HTTP_METHODS or not path.startswith("/"):
        raise TrimError(f"{entry!r}: expected 'METHOD /path' or '/path'")
    return method.lower(), path.strip()


def _select_paths(name: str, sources: list[dict[str, Any]],
                  keep: list[str]) -> dict[str, Any]:
    """The kept path items, each with its shared keys and only the kept methods."""
    chosen: dict[str, set[str]] = {}
    for entry in keep:
        method, path = _split_entry(entry)
        item = next((s["paths"][path] for s in sources if path in (s.get("paths") or {})), None)
        if item is None:
            raise TrimError(f"{name}: no path {path} in the source")
        methods = [m for m in item if m in _HTTP_METHODS]
        if method is not None and method not in methods:
            raise TrimError(f"{name}: {path} has no {method.upper()} (it has {methods})")
        chosen.setdefault(path, set()).update([method] if method else methods)
    out: dict[str, Any] = {}
    for source in sources:
        for path, item in (source.get("paths") or {}).items():
            if path in chosen and path not in out:
                out[path] = {key: value for key, value in item.items()
                             if key not in _HTTP_METHODS or key in chosen[path]}
    return out


def _merged_containers(name: str, sources: list[dict[str, Any]]) -> dict[tuple[str, ...], Any]:
    """Every referenceable entry of every source, by its pointer (``components/schemas/X``)."""
    entries: dict[tuple[str, ...], Any] = {}
    for source in sources:
        for container, depth in _CONTAINERS.items():
            for key, node in _entries(source.get(container), (container,), depth - 1):
                if key in entries and entries[key] != node:
                    raise TrimError(f"{name}: the sources disagree on #/{'/'.join(key)}")
                entries.setdefault(key, node)
    return entries


def _entries(node: Any, prefix: tuple[str, ...],
             depth: int) -> Iterator[tuple[tuple[str, ...], Any]]:
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if depth == 1:
            yield (*prefix, str(key)), value
        else:
            yield from _entries(value, (*prefix, str(key)), depth - 1)


def _refs(node: Any, *, bare_prefix: str) -> Iterator[str]:
    """Every ``$ref`` under ``node``, and every discriminator mapping target."""
    if isinstance(node, list):
        for item in node:
            yield from _refs(item, bare_prefix=bare_prefix)
        return
    if not isinstance(node, dict):
        return
    if isinstance(node.get("$ref"), str):
        yield node["$ref"]
    discriminator = node.get("discriminator")
    if isinstance(discriminator, dict) and isinstance(discriminator.get("mapping"), dict):
        for target in discriminator["mapping"].values():
            if isinstance(target, str):
                yield target if target.startswith("#") else bare_prefix + target
    for value in node.values():
        yield from _refs(value, bare_prefix=bare_prefix)


def _pointer_parts(ref: str) -> list[str]:
    return [part.replace("~1", "/").replace("~0", "~") for part in ref[2:].split("/")]


def _closure(name: str, roots: Any, entries: dict[tuple[str, ...], Any], *,
             bare_prefix: str) -> set[tuple[str, ...]]:
    """The pointers of every entry reachable from ``roots`` through references."""
    wanted: set[tuple[str, ...]] = set()
    queue = [roots]
    while queue:
        for ref in _refs(queue.pop(), bare_prefix=bare_prefix):
            if not ref.startswith("#/"):
                raise TrimError(f"{name}: reference to another file ({ref}) is not supported")
            parts = _pointer_parts(ref)
            depth = _CONTAINERS.get(parts[0])
            if depth is None:
                raise TrimError(f"{name}: reference {ref} points outside the components")
            key = tuple(parts[:depth])
            if key in wanted:
                continue
            if key not in entries:
                raise TrimError(f"{name}: reference {ref} points to nothing in the source")
            wanted.add(key)
            queue.append(entries[key])
    return wanted


def _trim_openapi(name: str, sources: list[dict[str, Any]], keep: list[str]) -> dict[str, Any]:
    first = sources[0]
    paths = _select_paths(name, sources, keep)
    entries = _merged_containers(name, sources)
    bare = "#/definitions/" if "swagger" in first else "#/components/schemas/"
    wanted = _closure(name, paths, entries, bare_prefix=bare)
    # Security schemes are named, not referenced: all are kept.
    wanted |= {key for key in entries if key[:2] == ("components", "securitySchemes")}
    containers: dict[str, Any] = {}
    for key, node in entries.items():  # source order
        if key in wanted:
            holder = containers
            for part in key[:-1]:
                holder = holder.setdefault(part, {})
            holder[key[-1]] = node
    used_tags = {tag for item in paths.values() for op in item.values()
                 if isinstance(op, dict) for tag in op.get("tags") or ()}
    out: dict[str, Any] = {}
    for field, value in first.items():
        if field == NOTE_KEY:
            continue
        if field == "paths":
            out[field] = paths
        elif field in _CONTAINERS:
            if field in containers:
                out[field] = containers[field]
        elif field == "tags" and isinstance(value, list):
            out[field] = [t for t in value if isinstance(t, dict) and t.get("name") in used_tags]
        else:
            out[field] = value
    return out


# --- Google discovery documents ------------------------------------------------------------------


def _prune_resources(resources: dict[str, Any], ids: set[str],
                     found: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, resource in resources.items():
        methods = {k: m for k, m in (resource.get("methods") or {}).items() if m.get("id") in ids}
        found.update(m["id"] for m in methods.values())
        children = _prune_resources(resource.get("resources") or {}, ids, found)
        if not methods and not children:
            continue
        kept = {k: v for k, v in resource.items() if k not in ("methods", "resources")}
        if methods:
            kept["methods"] = methods
        if children:
            kept["resources"] = children
        out[key] = kept
    return out


def _discovery_refs(node: Any) -> Iterable[str]:
    if isinstance(node, list):
        for item in node:
            yield from _discovery_refs(item)
    elif isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from _discovery_refs(value)


def _trim_discovery(name: str, doc: dict[str, Any], keep: list[str]) -> dict[str, Any]:
    found: set[str] = set()
    resources = _prune_resources(doc.get("resources") or {}, set(keep), found)
    missing = [method for method in keep if method not in found]
    if missing:
        raise TrimError(f"{name}: no method {', '.join(missing)} in the source")
    schemas = doc.get("schemas") or {}
    wanted: set[str] = set()
    queue: list[Any] = [resources]
    while queue:
        for ref in _discovery_refs(queue.pop()):
            if ref not in wanted:
                if ref not in schemas:
                    raise TrimError(f"{name}: schema {ref} is referenced but not defined")
                wanted.add(ref)
                queue.append(schemas[ref])
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if key == "resources":
            out[key] = resources
        elif key == "schemas":
            out[key] = {k: v for k, v in schemas.items() if k in wanted}
        elif key != NOTE_KEY:
            out[key] = value
    return out


# --- command line -----------------------------------------------------------------------------


def sha256(path: Path) -> str:
    """The sha256 of a file, in hex."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def retrim(name: str, sources: list[Path], *, subsets: dict[str, Any] | None = None) -> str:
    """The text of vendor spec ``name`` trimmed from ``sources`` as ``spec_subsets.yaml`` says."""
    subsets = load_subsets() if subsets is None else subsets
    if name not in subsets:
        raise TrimError(f"{name}: not in {SUBSETS.name}; known: {sorted(subsets)}")
    return dump_spec(name, trim(name, [read_spec(p) for p in sources], subsets[name]))


def _print_sums(folder: Path) -> None:
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "README.md"):
        print(f"{path.relative_to(folder).as_posix()}  {path.stat().st_size}  {sha256(path)}")


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("name", nargs="?", help="file name in the vendor specs folder")
    parser.add_argument("sources", nargs="*", type=Path, help="the vendor's full spec file(s)")
    parser.add_argument("--out", type=Path, default=VENDOR_SPECS, help="folder to write to")
    parser.add_argument("--from-committed", action="store_true",
                        help="re-trim the file already in the folder (no sources needed)")
    parser.add_argument("--sums", action="store_true", help="print size and sha256 of each file")
    args = parser.parse_args(argv)
    if args.sums:
        _print_sums(args.out)
        return 0
    if not args.name or not (args.sources or args.from_committed):
        parser.error("give a spec name and its full source file(s), or --from-committed")
    sources = args.sources or [VENDOR_SPECS / args.name]
    try:
        text = retrim(args.name, sources)
    except (TrimError, OSError, ValueError) as exc:
        print(f"trim_spec: {exc}", file=sys.stderr)
        return 2
    target = args.out / args.name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    print(f"{args.name}  {target.stat().st_size}  {sha256(target)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
