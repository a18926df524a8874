"""The API's OpenAPI document: valid 3.1, describing every /api route, built from the same
declarations the routes validate their input with (webapp/contract.py), and true of the live
app: schemathesis calls each operation through waitress as a client and as the trainer, and
every answer must be a non-5xx that the document describes (status, content type, schema,
headers)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

import pytest
import requests
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from schedule.db import create_schema, make_engine
from tests.fixtures_web import ANNA, TOMORROW, TRAINER, Clock, auth, build_app, serve
from webapp.extensions import db
from webapp.openapi import DOCUMENT

# Per operation, caller and mode: a few hundred calls in all, well under a minute.
EXAMPLES = 5
IGNORED_METHODS = {"HEAD", "OPTIONS"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
OPERATIONS = [
    (path, method.upper())
    for path, item in DOCUMENT["paths"].items()
    for method in item
    if method != "parameters"
]
FULL_DAY = "2026-11-27"
RATE_LIMITS = ("RATE_LIMIT_WRITES", "RATE_LIMIT_READS", "RATE_LIMIT_ANONYMOUS")


def documented_path(rule: str) -> str:
    """/api/bookings/<int:booking_id> as OpenAPI writes it: /api/bookings/{booking_id}."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def undocumented(app: Flask) -> set[tuple[str, str]]:
    """(path, method) of every route under /api that the document does not describe."""
    routes = {
        (documented_path(rule.rule), method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in rule.methods - IGNORED_METHODS
    }
    return routes - set(OPERATIONS)


def test_the_document_is_served_without_auth_and_is_valid_openapi_3_1(page_client):
    response = page_client.get("/api/openapi.json")

    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.1")
    validate(document)  # raises on any violation of the OpenAPI 3.1 schema


def test_every_api_route_is_described(sqlite_app):
    assert undocumented(sqlite_app) == set()
    described = {
        (documented_path(r.rule), m) for r in sqlite_app.url_map.iter_rules() for m in r.methods
    }
    assert set(OPERATIONS) <= described  # and nothing is described that does not exist


def test_a_new_route_without_a_description_is_found(sqlite_app):
    @sqlite_app.post("/api/bookings/<int:booking_id>/pay")
    def pay(booking_id: int):
        return {}

    assert undocumented(sqlite_app) == {("/api/bookings/{booking_id}/pay", "POST")}


def schema_of(reference: dict) -> dict:
    return DOCUMENT["components"]["schemas"][reference["$ref"].rsplit("/", 1)[1]]


def with_ids(path: str) -> str:
    return re.sub(r"{[^}]+}", "1", path)


BODIES = [
    (path, method)
    for path, method in OPERATIONS
    if "requestBody" in DOCUMENT["paths"][path][method.lower()]
]
REQUIRED_QUERIES = [
    (path, method, parameter["name"])
    for path, method in OPERATIONS
    for parameter in DOCUMENT["paths"][path][method.lower()].get("parameters", ())
    if parameter["in"] == "query" and parameter["required"]
]


@pytest.mark.parametrize(("path", "method"), BODIES, ids=[f"{m} {p}" for p, m in BODIES])
def test_each_body_is_read_by_the_model_the_document_shows(page_client, path, method):
    """A body that is no JSON object is refused naming the fields the document lists: the
    validation and the document come from one model."""
    spec = DOCUMENT["paths"][path][method.lower()]
    fields = schema_of(spec["requestBody"]["content"]["application/json"]["schema"])

    response = page_client.open(with_ids(path), method=method, json=[], headers=auth(TRAINER))

    listed = ", ".join(f'"{name}"' for name in fields["properties"])
    assert response.status_code == 400
    assert response.json == {"error": "invalid", "message": f"Send a JSON object with {listed}."}


@pytest.mark.parametrize(
    ("path", "method", "name"), REQUIRED_QUERIES, ids=[f"{p}?{n}" for p, _, n in REQUIRED_QUERIES]
)
def test_each_required_query_parameter_is_required_by_the_route(page_client, path, method, name):
    spec = DOCUMENT["paths"][path][method.lower()]
    others = {
        parameter["name"]: parameter["schema"]["examples"][0]
        for parameter in spec["parameters"]
        if parameter["in"] == "query" and parameter["required"] and parameter["name"] != name
    }

    response = page_client.open(path, method=method, query_string=others, headers=auth(TRAINER))

    assert response.status_code == 400
    assert response.json == {"error": "invalid", "message": f"{name} is missing."}


@pytest.mark.parametrize("telegram_id", [-(2**64), -1, 0, 2**63, 2**64])
def test_a_client_id_no_database_can_hold_is_a_400(page_client, telegram_id):
    """Found by schemathesis: a negative id beyond 64 bits overflowed SQLite's INTEGER (500)."""
    body = {"telegram_id": telegram_id, "date": TOMORROW, "start": "10:00"}

    response = page_client.post("/api/admin/bookings", json=body, headers=auth(TRAINER))

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid"


# --- schemathesis against the live server ---------------------------------------------------


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> Iterator[str]:
    """The app on SQLite behind waitress, with a booking, a waitlist entry and a closure, so
    that lists are not empty; rate limits off (this is about answers, not throttling)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('openapi') / 'booking.sqlite3'}"
    engine = make_engine(url)
    create_schema(engine)
    engine.dispose()
    with pytest.MonkeyPatch.context() as env:
        for name in RATE_LIMITS:
            env.setenv(name, "")
        app = build_app(url, Clock(datetime(2026, 11, 25, 6, 0)))
    base, stop = serve(app)
    seed(base)
    yield base
    stop()
    with app.app_context():
        db.engine.dispose()


def seed(base: str) -> None:
    def post(path: str, body: dict, user: dict) -> None:
        response = requests.post(f"{base}{path}", json=body, headers=auth(user), timeout=30)
        assert response.status_code == 201, response.text

    post("/api/bookings", {"date": TOMORROW, "start": "10:00"}, ANNA)
    for n in range(4):
        user = {"id": 4000 + n, "first_name": f"Full{n}"}
        post("/api/bookings", {"date": FULL_DAY, "start": "14:00"}, user)
    post("/api/waitlist", {"date": FULL_DAY, "start": "14:00"}, ANNA)
    post("/api/admin/closures", {"date": "2026-11-28", "reason": "holiday"}, TRAINER)


SCHEMA = schemathesis.openapi.from_dict(DOCUMENT)


def call(live: str, caller: dict, method: str, path: str, **parts) -> requests.Response:
    """One chosen call, checked against the document like the generated ones."""
    case = SCHEMA.make_case(
        operation=SCHEMA[path][method],
        media_type="application/json" if "body" in parts else None,
        **parts,
    )
    response = case.call_and_validate(base_url=live, headers=auth(caller), checks=CHECKS)
    assert response.status_code < 300, response.text
    return response


def test_the_successful_answers_keep_to_the_document(live):
    """Random input rarely makes a booking; these calls do, and are checked the same way."""
    day = {"date": TOMORROW}
    assert call(live, ANNA, "GET", "/api/slots", query=day).json()["slots"]
    [mine] = call(live, ANNA, "GET", "/api/bookings").json()["bookings"]
    by_id = {"booking_id": mine["id"]}
    moved = {"date": TOMORROW, "start": "11:00"}
    call(
        live,
        ANNA,
        "POST",
        "/api/bookings/{booking_id}/reschedule",
        path_parameters=by_id,
        body=moved,
    )
    [waiting] = call(live, ANNA, "GET", "/api/waitlist").json()["waitlist"]

    boris = {"id": 1002, "first_name": "Boris"}
    call(live, boris, "GET", "/api/bookings")  # Boris is known from now on
    walk_in = {"telegram_id": 1002, "date": TOMORROW, "start": "16:00"}
    made = call(live, TRAINER, "POST", "/api/admin/bookings", body=walk_in).json()
    assert call(live, TRAINER, "GET", "/api/admin/bookings", query=day).json()["bookings"]
    call(
        live,
        TRAINER,
        "POST",
        "/api/admin/bookings/{booking_id}/cancel",
        path_parameters={"booking_id": made["id"]},
        body={"reason": "ill"},
    )
    call(live, TRAINER, "GET", "/api/admin/week", query={"from": TOMORROW})
    every_day = {name: ["08:00-18:00"] for name in ("mon", "tue", "wed", "thu", "fri", "sat")}
    call(live, TRAINER, "PUT", "/api/admin/hours", body={"hours": {**every_day, "sun": "closed"}})
    closure = {"date": "2026-11-29", "start": "08:00", "end": "10:00", "reason": "repairs"}
    added = call(live, TRAINER, "POST", "/api/admin/closures", body=closure).json()
    assert len(call(live, TRAINER, "GET", "/api/admin/closures").json()["closures"]) == 2
    by_closure = {"closure_id": added["id"]}
    call(live, TRAINER, "DELETE", "/api/admin/closures/{closure_id}", path_parameters=by_closure)
    assert call(live, TRAINER, "GET", "/api/admin/clients", query={"q": "anna"}).json()["clients"]
    export = call(
        live, TRAINER, "GET", "/api/admin/export.csv", query={"from": TOMORROW, "to": TOMORROW}
    )
    assert "Anna" in export.content.decode("utf-8-sig")

    by_entry = {"entry_id": waiting["id"]}
    call(live, ANNA, "DELETE", "/api/waitlist/{entry_id}", path_parameters=by_entry)
    call(live, ANNA, "DELETE", "/api/bookings/{booking_id}", path_parameters=by_id)
    call(live, ANNA, "POST", "/api/bookings", body={"date": TOMORROW, "start": "10:00"})


def takes_input(path: str, method: str) -> bool:
    item = DOCUMENT["paths"][path]
    spec = item[method.lower()]
    return any(key in spec for key in ("parameters", "requestBody")) or "parameters" in item


# Valid input for every operation; invalid input (wrong types, missing fields, malformed
# dates) for those that take any.
FUZZED = [(path, method, GenerationMode.POSITIVE) for path, method in OPERATIONS] + [
    (path, method, GenerationMode.NEGATIVE)
    for path, method in OPERATIONS
    if takes_input(path, method)
]


@pytest.mark.parametrize("caller", [ANNA, TRAINER], ids=["client", "trainer"])
@pytest.mark.parametrize(
    ("path", "method", "mode"), FUZZED, ids=[f"{m} {p} {g.value}" for p, m, g in FUZZED]
)
def test_the_live_app_keeps_to_the_document(live, path, method, mode, caller):
    operation = SCHEMA[path][method]
    headers = auth(caller)
    session = requests.Session()

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def keeps_to_it(case) -> None:
        case.call_and_validate(base_url=live, session=session, headers=headers, checks=CHECKS)

    keeps_to_it()
