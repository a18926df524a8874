"""The JSON API's contract as an OpenAPI 3.1 document, served at GET /api/openapi.json.

Why: clients (and schemathesis in the test suite) need a machine-readable description of every
/api and /api/admin route: what each takes, what it answers, the one error shape
{"error", "message"}, the 429 with Retry-After, and the `Authorization: tma <initData>`
scheme. Nothing here is written by hand twice: the document is built from webapp/contract.py,
whose pydantic models the routes validate their input with (`model_json_schema`) and whose
route table names each route's models and errors.
"""

from __future__ import annotations

from flask import Blueprint, jsonify
from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from .contract import PATH_ID, ROUTES, Content, Error, Route

bp = Blueprint("openapi", __name__, url_prefix="/api")

REF = "#/components/schemas/{model}"


class Schema(GenerateJsonSchema):
    """pydantic's JSON Schema without a title on every field (the names say it)."""

    def field_title_should_be_set(self, schema) -> bool:
        return False


def error_response(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


# The errors any operation may answer, by status (403: a trainer's operation).
ERRORS = {
    400: ("BadRequest", "Malformed input (error: invalid)."),
    401: ("Unauthorized", "Missing, forged or expired init data."),
    403: ("Forbidden", "Not a trainer (ADMIN_IDS)."),
    404: ("NotFound", "No such thing, or not the caller's."),
    409: ("Refused", "The rules refuse it: full, overlapping, closed, too_soon, …"),
    429: ("RateLimited", "Too many requests (error: rate_limited)."),
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "seconds to wait",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    }
}


def models(routes: tuple[Route, ...]) -> list[type[BaseModel]]:
    """Every model the document names: bodies, answers and errors (queries become parameters)."""
    found: dict[type[BaseModel], None] = {Error: None}
    for route in routes:
        for model in (route.body, route.ok, *(m for _, m in route.error_models)):
            if isinstance(model, type):
                found[model] = None
    return list(found)


def parameters(route: Route) -> list[dict]:
    """The path's ids, then the query model's fields."""
    found = [
        {"name": name, "in": "path", "required": True, "schema": PATH_ID} for name in route.path_ids
    ]
    if route.query is not None:
        schema = route.query.model_json_schema(schema_generator=Schema)
        found += [
            {
                "name": name,
                "in": "query",
                "required": name in schema.get("required", ()),
                "schema": {
                    key: value
                    for key, value in field.items()
                    if key != "description" and (key, value) != ("default", None)
                },
                **({"description": field["description"]} if "description" in field else {}),
            }
            for name, field in schema["properties"].items()
        ]
    return found


def operation(route: Route, refs: dict[type[BaseModel], dict]) -> dict:
    """One operation: its success, its errors and those every call may answer."""
    if isinstance(route.ok, Content):
        content = {route.ok.media_type: {"schema": route.ok.schema}}
    else:
        content = {"application/json": {"schema": refs[route.ok]}}
    responses = {str(route.status): {"description": route.summary, "content": content}}
    if route.public:
        statuses = {429}
    else:
        # Any call may be a 400: a NUL byte in any input is refused at the door (webapp/inputs.py).
        statuses = {400, 401, 429, *route.errors} | ({403} if route.admin else set())
    special = dict(route.error_models)
    for status in sorted(statuses):
        if status in special:
            description = ERRORS[status][1]
            responses[str(status)] = error_response(description, refs[special[status]])
        else:
            responses[str(status)] = {"$ref": f"#/components/responses/{ERRORS[status][0]}"}
    spec: dict = {"summary": route.summary, "tags": [route.tag]}
    if route.public:
        spec["security"] = []
    if params := parameters(route):
        spec["parameters"] = params
    if route.body is not None:
        spec["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[route.body]}},
        }
    spec["responses"] = dict(sorted(responses.items()))
    return spec


def build(routes: tuple[Route, ...] = ROUTES) -> dict:
    """The OpenAPI 3.1 document of `routes`."""
    found = models(routes)
    keys, schemas = models_json_schema(
        [(model, "validation") for model in found], ref_template=REF, schema_generator=Schema
    )
    refs = {model: keys[(model, "validation")] for model in found}
    paths: dict[str, dict] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = operation(route, refs)
    error = refs[Error]
    responses = {name: error_response(description, error) for name, description in ERRORS.values()}
    responses["RateLimited"]["headers"] = RETRY_AFTER
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Training booking API",
            "version": "1.0.0",
            "description": "Dates (YYYY-MM-DD) and times (HH:MM) are the studio's local time. "
            'Every error is {"error": code, "message": text} with a 4xx status.',
        },
        "servers": [{"url": "/"}],
        "security": [{"telegramInitData": []}],
        "tags": [
            {"name": "client", "description": "Any Telegram user of the Mini App"},
            {"name": "trainer", "description": "Telegram ids in ADMIN_IDS; 403 for others"},
            {"name": "meta"},
        ],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "telegramInitData": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "`tma <initData>`: Telegram.WebApp.initData as Telegram "
                    "signed it (HMAC-SHA256 keyed by the bot token), at most INIT_DATA_MAX_AGE "
                    "old.",
                }
            },
            "schemas": schemas.get("$defs", {}),
            "responses": responses,
        },
    }


DOCUMENT = build()


@bp.get("/openapi.json")
def document():
    return jsonify(DOCUMENT)
