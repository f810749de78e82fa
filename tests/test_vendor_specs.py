"""The vendor specs that ship with the testing kit: found without any setup, documented, trimmed
reproducibly, and complete for what s3events calls (attendance reports included)."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from s3events.testing._spec_formats import load_spec
from s3events.testing.specs import PACKAGED_SPECS_DIR, validate_response

ROOT = Path(__file__).resolve().parents[1]
README = PACKAGED_SPECS_DIR / "README.md"
ZOOM = "zoom-api-v2-openapi-2018.json"
WEBEX = "webex-meeting.json"
GRAPH = "msgraph-v1.0-onlinemeetings-events-subset.json"
MEET = "google-meet-v2-discovery.json"


def _load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("trim_spec", ROOT / "tools" / "trim_spec.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("trim_spec", module)
    spec.loader.exec_module(module)
    return module


trim_spec = _load_tool()
SUBSETS: dict[str, Any] = trim_spec.load_subsets()


def shipped_files() -> list[str]:
    return sorted(p.relative_to(PACKAGED_SPECS_DIR).as_posix()
                  for p in PACKAGED_SPECS_DIR.rglob("*") if p.is_file() and p != README)


def run_python(code: str, *, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-W", "error", "-c", code], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120, check=False)


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "S3EVENTS_SPECS_DIR"}
    env.update(extra)
    return env


# --- the packaged folder is used, and a wrong body fails ------------------------------------


WRONG_ZOOM_CREATE = """
from s3events.testing.specs import PACKAGED_SPECS_DIR, SPECS_DIR, validate_request
assert SPECS_DIR == PACKAGED_SPECS_DIR, SPECS_DIR
validate_request("zoom-api-v2-openapi-2018.json", method="POST", path="/users/me/meetings",
                 body={"topic": "Seminar", "type": 2, "duration": 150})
try:
    validate_request("zoom-api-v2-openapi-2018.json", method="POST", path="/users/me/meetings",
                     body={"topic": "Seminar", "type": "tomorrow"})
except AssertionError as failure:
    print(failure)
else:
    raise SystemExit("a Zoom create with type 'tomorrow' passed the spec check")
"""


def test_without_configuration_the_packaged_specs_catch_a_wrong_body(tmp_path: Path) -> None:
    result = run_python(WRONG_ZOOM_CREATE, env=clean_env(), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "body.type: 'tomorrow' is not one of [1, 2, 3, 8]" in result.stdout
    assert "Warning" not in result.stderr


def test_the_environment_variable_replaces_the_folder(tmp_path: Path) -> None:
    own = tmp_path / "own-specs"
    own.mkdir()
    (own / ZOOM).write_bytes((PACKAGED_SPECS_DIR / ZOOM).read_bytes())
    code = f"""
from pathlib import Path
from s3events.testing.specs import SPECS_DIR, validate_request
assert SPECS_DIR == Path({str(own)!r}), SPECS_DIR
validate_request("zoom-api-v2-openapi-2018.json", method="PATCH", path="/meetings/1",
                 body={{"topic": "x"}})
validate_request("webex-meeting.json", method="POST", path="/meetings", body={{}})
"""
    result = run_python(code, env=clean_env(S3EVENTS_SPECS_DIR=str(own)), cwd=tmp_path)
    assert result.returncode == 1
    assert "FileNotFoundError: no spec 'webex-meeting.json' in " + str(own) in result.stderr
    assert "there are: ['zoom-api-v2-openapi-2018.json']" in result.stderr


def test_a_configured_folder_that_is_missing_is_named_in_the_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    code = ('from s3events.testing.specs import validate_request\n'
            'validate_request("webex-meeting.json", method="POST", path="/meetings", body={})\n')
    result = run_python(code, env=clean_env(S3EVENTS_SPECS_DIR=str(missing)), cwd=tmp_path)
    assert result.returncode == 1
    assert f"the vendor specs folder {missing} (set by S3EVENTS_SPECS_DIR) does not exist" \
        in result.stderr


# --- the README describes what is committed -------------------------------------------------

ROW = re.compile(r"^\| `(?P<file>[^`]+)` \|(?P<cells>.*)\| (?P<size>[\d,]+) \| "
                 r"`(?P<sha>[0-9a-f]{64})` \|$")


def readme_rows() -> dict[str, re.Match[str]]:
    rows = [ROW.match(line) for line in README.read_text(encoding="utf-8").splitlines()]
    return {row["file"]: row for row in rows if row}


def test_readme_lists_every_file_with_its_size_and_checksum() -> None:
    rows = readme_rows()
    assert sorted(rows) == shipped_files()
    for name, row in rows.items():
        data = (PACKAGED_SPECS_DIR / name).read_bytes()
        assert int(row["size"].replace(",", "")) == len(data), name
        assert row["sha"] == hashlib.sha256(data).hexdigest(), name


def test_readme_gives_source_commit_and_licence_of_every_file() -> None:
    for name, row in readme_rows().items():
        cells = row["cells"]
        assert re.search(r"`[0-9a-f]{40}`", cells), f"{name}: no commit"
        assert re.search(r"CC BY 4\.0|Apache-2\.0|MIT", cells), f"{name}: no licence"
        if name in SUBSETS:
            assert SUBSETS[name]["source"]["commit"] in cells, name
            assert SUBSETS[name]["source"]["repository"] in cells, name


# --- the trimmed files are what the tool makes ------------------------------------------------


@pytest.mark.parametrize("name", sorted(SUBSETS))
def test_trimmed_file_is_what_the_tool_makes_of_it(name: str) -> None:
    committed = PACKAGED_SPECS_DIR / name
    assert trim_spec.retrim(name, [committed]) == committed.read_text(encoding="utf-8")
    note = trim_spec.read_spec(committed)[trim_spec.NOTE_KEY]
    assert note["keeps"] == SUBSETS[name]["keep"]
    assert note["source"] == SUBSETS[name]["source"]


@pytest.mark.parametrize("name", sorted(SUBSETS))
def test_every_kept_operation_is_found_by_the_loader(name: str) -> None:
    loaded = load_spec(PACKAGED_SPECS_DIR, name)
    found = {(op.method, op.template) for op in loaded.operations}
    names = {op.name for op in loaded.operations}
    for entry in SUBSETS[name]["keep"]:
        if loaded.kind == "Google discovery":
            assert entry in names, entry
            continue
        method, _, path = entry.rpartition(" ")
        templates = {template for _, template in found}
        assert path in templates, entry
        if method:
            assert (method, path) in found, entry


# --- what the attendance reports will read is there, with its schemas ---------------------


def test_graph_attendance_records_answer_is_checked() -> None:
    path = "/users/u1/onlineMeetings/m1/attendanceReports/r1/attendanceRecords"
    record = {"id": "a1", "emailAddress": "ana@example.org", "role": "Attendee",
              "totalAttendanceInSeconds": 3540, "identity": {"displayName": "Ana Pérez"},
              "attendanceIntervals": [{"joinDateTime": "2021-10-28T15:01:00Z",
                                       "leaveDateTime": "2021-10-28T16:00:00Z",
                                       "durationInSeconds": 3540}]}
    validate_response(GRAPH, method="GET", path=path, status=200, body={"value": [record]})
    late = {**record, "attendanceIntervals": [{"joinDateTime": "after lunch"}]}
    with pytest.raises(AssertionError, match=r"body\.value\[0\]\.attendanceIntervals\[0\]"):
        validate_response(GRAPH, method="GET", path=path, status=200, body={"value": [late]})
    report = {"id": "r1", "totalParticipantCount": 12,
              "meetingStartDateTime": "2021-10-28T15:00:00Z"}
    validate_response(GRAPH, method="GET", path="/users/u1/onlineMeetings/m1/attendanceReports",
                      status=200, body={"value": [report]})
    validate_response(GRAPH, method="GET", status=200, body=report,
                      path="/users/u1/onlineMeetings/m1/attendanceReports/r1")


def test_zoom_webex_and_meet_participant_lists_are_checked() -> None:
    validate_response(ZOOM, method="GET", path="/report/meetings/85746065432/participants",
                      status=200, body={"participants": [
                          {"name": "Ana", "user_email": "ana@example.org", "duration": 3540,
                           "join_time": "2021-10-28T15:01:00Z"}]})
    with pytest.raises(AssertionError, match=r"body\.participants\[0\]\.duration"):
        validate_response(ZOOM, method="GET", path="/report/meetings/1/participants",
                          status=200, body={"participants": [{"duration": "59 min"}]})
    validate_response(ZOOM, method="GET", path="/past_meetings/aDYlohsHRtCd4ii1uC2+hA==/"
                      "participants", status=200, body={"participants": [{"name": "Ana"}]})
    with pytest.raises(AssertionError, match=r"body\.items\[0\]\.joinedTime"):
        validate_response(WEBEX, method="GET", path="/meetingParticipants", status=200,
                          body={"items": [{"email": "ana@example.org", "joinedTime": 5}]})
    session = {"name": "conferenceRecords/c1/participants/p1/participantSessions/s1",
               "startTime": "2021-10-28T15:01:00Z"}
    validate_response(MEET, method="GET", status=200, body={"participantSessions": [session]},
                      path="/v2/conferenceRecords/c1/participants/p1/participantSessions")
    with pytest.raises(AssertionError, match=r"body\.participants"):
        validate_response(MEET, method="GET", path="/v2/conferenceRecords/c1/participants",
                          status=200, body={"participants": {"name": "p1"}})


def test_webex_meetings_list_keeps_its_query_parameters() -> None:
    doc = json.loads((PACKAGED_SPECS_DIR / WEBEX).read_text(encoding="utf-8"))
    names = {p.get("name") for p in doc["paths"]["/meetings"]["get"]["parameters"]}
    assert {"meetingType", "state", "from", "to", "max"} <= names


# --- the tool itself, on small specs ----------------------------------------------------------


def openapi(paths: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    return {"openapi": "3.1.0", "info": {"title": "Acme", "version": "1"},
            "tags": [{"name": "rooms"}, {"name": "admin"}],
            "paths": paths, "components": {"schemas": schemas, "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"}}}}


def body(ref: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": {"$ref": ref}}}}


ACME = openapi(
    paths={
        "/rooms": {"parameters": [{"name": "org", "in": "query"}],
                   "get": {"tags": ["rooms"], "responses": {}},
                   "post": {"tags": ["rooms"], "requestBody": body("#/components/schemas/Room"),
                            "responses": {}}},
        "/admin": {"post": {"tags": ["admin"], "requestBody": body("#/components/schemas/Admin"),
                            "responses": {}}},
    },
    schemas={
        "Room": {"type": "object", "properties": {"seat": {"$ref": "#/components/schemas/Seat"},
                                                  "kind": {"$ref": "#/components/schemas/Kind"}}},
        "Seat": {"oneOf": [{"$ref": "#/components/schemas/Chair"}],
                 "discriminator": {"propertyName": "type",
                                   "mapping": {"chair": "#/components/schemas/Chair",
                                               "sofa": "Sofa"}}},
        "Chair": {"type": "object"},
        "Sofa": {"type": "object"},
        "Kind": {"type": "string", "enum": ["small", "large"]},
        "Admin": {"type": "object"},
    })


def test_tool_keeps_listed_operations_and_what_they_reference_transitively() -> None:
    out = trim_spec.trim("acme.json", [ACME], {"keep": ["POST /rooms"], "source": {"x": 1}})
    assert list(out["paths"]) == ["/rooms"]
    assert list(out["paths"]["/rooms"]) == ["parameters", "post"]
    assert list(out["components"]["schemas"]) == ["Room", "Seat", "Chair", "Sofa", "Kind"]
    assert out["components"]["schemas"]["Room"] == ACME["components"]["schemas"]["Room"]
    assert out["components"]["securitySchemes"] == ACME["components"]["securitySchemes"]
    assert out["tags"] == [{"name": "rooms"}]
    assert out[trim_spec.NOTE_KEY]["keeps"] == ["POST /rooms"]
    whole = trim_spec.trim("acme.json", [ACME], {"keep": ["/rooms", "/admin"]})
    assert list(whole["paths"]["/rooms"]) == ["parameters", "get", "post"]
    assert "Admin" in whole["components"]["schemas"]


def test_tool_merges_sources_and_refuses_what_it_cannot_keep_faithfully() -> None:
    admin = openapi(paths={"/admin": ACME["paths"]["/admin"]},
                    schemas={"Admin": {"type": "object"}})
    rooms = openapi(paths={"/rooms": ACME["paths"]["/rooms"]},
                    schemas={k: v for k, v in ACME["components"]["schemas"].items()
                             if k != "Admin"})
    merged = trim_spec.trim("acme.json", [rooms, admin], {"keep": ["/admin", "POST /rooms"]})
    assert list(merged["paths"]) == ["/rooms", "/admin"]
    clash = openapi(paths={}, schemas={"Room": {"type": "string"}})
    failures = {
        "no path /chairs": ([ACME], ["GET /chairs"]),
        r"/admin has no GET \(it has \['post'\]\)": ([ACME], ["GET /admin"]),
        "the sources disagree on #/components/schemas/Room": ([ACME, clash], ["/rooms"]),
        "points to nothing": ([openapi(paths={"/x": {"post": {
            "requestBody": body("#/components/schemas/Gone")}}}, schemas={})], ["/x"]),
        "another file": ([openapi(paths={"/x": {"post": {
            "requestBody": body("other.yaml#/Thing")}}}, schemas={})], ["/x"]),
        "lists nothing to keep": ([ACME], []),
    }
    for message, (sources, keep) in failures.items():
        with pytest.raises(trim_spec.TrimError, match=message):
            trim_spec.trim("acme.json", sources, {"keep": keep})


def test_tool_trims_a_discovery_document_to_methods_and_their_schemas() -> None:
    doc = {"kind": "discovery#restDescription", "name": "acme", "parameters": {"key": {}},
           "resources": {
               "rooms": {"methods": {
                   "list": {"id": "acme.rooms.list", "response": {"$ref": "RoomList"}},
                   "delete": {"id": "acme.rooms.delete"}},
                   "resources": {"seats": {"methods": {
                       "get": {"id": "acme.rooms.seats.get", "response": {"$ref": "Seat"}}}}}},
               "admin": {"methods": {"get": {"id": "acme.admin.get",
                                             "response": {"$ref": "Admin"}}}}},
           "schemas": {"RoomList": {"properties": {"rooms": {"items": {"$ref": "Room"}}}},
                       "Room": {"properties": {"seat": {"$ref": "Seat"}}},
                       "Seat": {"type": "object"}, "Admin": {"type": "object"}}}
    out = trim_spec.trim("acme.json", [doc], {"keep": ["acme.rooms.list"]})
    assert out["resources"] == {"rooms": {"methods": {"list": doc["resources"]["rooms"]
                                                      ["methods"]["list"]}}}
    assert list(out["schemas"]) == ["RoomList", "Room", "Seat"]
    assert out["parameters"] == doc["parameters"]
    nested = trim_spec.trim("acme.json", [doc], {"keep": ["acme.rooms.seats.get"]})
    assert list(nested["resources"]["rooms"]) == ["resources"]
    with pytest.raises(trim_spec.TrimError, match=r"no method acme\.rooms\.patch"):
        trim_spec.trim("acme.json", [doc], {"keep": ["acme.rooms.patch"]})


def test_tool_command_line_writes_the_subset_and_reports_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert trim_spec.main([MEET, str(PACKAGED_SPECS_DIR / MEET), "--out", str(out)]) == 0
    assert (out / MEET).read_bytes() == (PACKAGED_SPECS_DIR / MEET).read_bytes()
    assert hashlib.sha256((out / MEET).read_bytes()).hexdigest() in capsys.readouterr().out
    assert trim_spec.main(["nothing.json", str(PACKAGED_SPECS_DIR / MEET)]) == 2
    assert "nothing.json: not in spec_subsets.yaml" in capsys.readouterr().err


def test_every_shipped_spec_is_read_in_its_format() -> None:
    kinds = {name: load_spec(PACKAGED_SPECS_DIR, name).kind for name in shipped_files()
             if "/definitions/" not in name}
    assert kinds == {
        "google-calendar-v3-discovery.json": "Google discovery",
        "google-meet-v2-discovery.json": "Google discovery",
        "matrix-client-server/room_send.yaml": "OpenAPI 3.1.0",
        "msgraph-v1.0-onlinemeetings-events-subset.json": "OpenAPI 3.0.1",
        "slack-web-openapi-v2.json": "Swagger 2.0",
        "telegram-bot-api-subset-unofficial.json": "Telegram Bot API (unofficial)",
        "webex-meeting.json": "OpenAPI 3.0.0",
        "whatsapp-business-messaging-api-v23.0.yaml": "OpenAPI 3.1.0",
        "zoom-api-v2-openapi-2018.json": "Swagger 2.0",
    }
