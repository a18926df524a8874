"""The JSON API's contract as an OpenAPI 3.1 document, served at GET /api/openapi.json.

Why: clients (and schemathesis in the test suite) need a machine-readable description of every
/api and /api/admin route: what each takes, what it answers, the one error shape
{"error", "message"}, the 429 with Retry-After, and the `Authorization: tma <initData>`
scheme. tests/webapp/test_openapi.py fails when a route under /api is missing here, so a new route
is described in the same change that adds it.

Response objects list the fields clients rely on as required and allow more, so that a
field added later does not break clients that validate.
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from schedule.availability import REFUSALS

bp = Blueprint("openapi", __name__, url_prefix="/api")

DATE = {"type": "string", "format": "date", "examples": ["2026-11-26"]}
TIME = {"type": "string", "pattern": "^[0-9]{2}:[0-9]{2}$", "examples": ["10:00"]}
TEXT_OR_NULL = {"type": ["string", "null"]}
COUNT = {"type": "integer", "minimum": 0}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(required: dict, optional: dict | None = None) -> dict:
    """An object with these required and optional properties (others allowed)."""
    return {
        "type": "object",
        "required": list(required),
        "properties": {**required, **(optional or {})},
    }


def listing(key: str, item: str) -> dict:
    return obj({key: {"type": "array", "items": ref(item)}})


SCHEMAS = {
    "Error": obj(
        {
            "error": {"type": "string", "description": "a stable code: invalid, full, …"},
            "message": {"type": "string", "description": "for people, in the user's language"},
        }
    ),
    "HasBookings": {
        "allOf": [
            ref("Error"),
            obj({"bookings": {"type": "array", "items": ref("AdminBooking")}}),
        ]
    },
    "Start": obj({"date": DATE, "start": TIME}),
    "Booking": obj(
        {
            "id": {"type": "integer"},
            "date": DATE,
            "start": TIME,
            "end": TIME,
            "status": {"enum": ["active", "cancelled"]},
            "pass_id": {"type": ["integer", "null"], "description": "null: unpaid"},
            "attendance": {"enum": ["attended", "no_show", None]},
        }
    ),
    "User": obj(
        {
            "telegram_id": {"type": "integer"},
            "name": {"type": "string"},
            "username": TEXT_OR_NULL,
            "phone": TEXT_OR_NULL,
        }
    ),
    "AdminBooking": {"allOf": [ref("Booking"), obj({"user": ref("User")})]},
    "CancelledBooking": {
        "allOf": [ref("AdminBooking"), obj({"cancel_reason": TEXT_OR_NULL})],
    },
    "Slot": obj(
        {
            "start": TIME,
            "end": TIME,
            "booked": COUNT,
            "free": COUNT,
            "can_start": {"type": "boolean"},
            "mine": {"type": "boolean"},
            "refusal": {"enum": [*REFUSALS, None]},
            "places": COUNT,
            "can_wait": {"type": "boolean"},
        },
        {"waitlisted": {"type": "boolean"}},
    ),
    "Day": obj(
        {
            "date": DATE,
            "timezone": {"type": "string"},
            "capacity": COUNT,
            "training_minutes": COUNT,
            "slot_minutes": COUNT,
            "slots": {"type": "array", "items": ref("Slot")},
        }
    ),
    "WaitlistEntry": obj(
        {"id": {"type": "integer"}, "date": DATE, "start": TIME, "end": TIME},
        {"position": {"type": "integer", "minimum": 1}, "status": {"const": "left"}},
    ),
    "Week": obj(
        {
            "from": DATE,
            "capacity": COUNT,
            "days": {
                "type": "array",
                "items": obj(
                    {
                        "date": DATE,
                        "booked": COUNT,
                        "cells": {
                            "type": "array",
                            "items": obj({"start": TIME, "booked": COUNT, "free": COUNT}),
                        },
                    }
                ),
            },
        }
    ),
    "Hours": obj(
        {
            "timezone": {"type": "string"},
            "hours": obj(
                {
                    day: {"type": "array", "items": {"type": "string", "examples": ["08:00-18:00"]}}
                    for day in WEEKDAYS
                }
            ),
        }
    ),
    "HoursSaved": {
        "allOf": [
            ref("Hours"),
            obj({"outside_hours": {"type": "array", "items": ref("AdminBooking")}}),
        ]
    },
    "HoursRequest": obj(
        {
            "hours": {
                "type": "object",
                "description": "intervals per weekday; a day left out is closed",
                "propertyNames": {"enum": list(WEEKDAYS)},
                "additionalProperties": {
                    "oneOf": [
                        {"type": "string", "examples": ["08:00-12:00,14:00-20:00", "closed"]},
                        {"type": "array", "items": {"type": "string"}},
                    ]
                },
            }
        }
    ),
    "Closure": obj(
        {
            "id": {"type": "integer"},
            "date": DATE,
            "start": TIME,
            "end": {"type": "string", "description": "HH:MM, 24:00 for the end of the day"},
            "whole_day": {"type": "boolean"},
            "reason": TEXT_OR_NULL,
        }
    ),
    "ClosureAdded": {
        "allOf": [
            ref("Closure"),
            obj({"cancelled": {"type": "array", "items": ref("AdminBooking")}}),
        ]
    },
    "ClosureRequest": obj(
        {"date": DATE},
        {
            "start": TIME,
            "end": TIME,
            "reason": {"type": "string"},
            "cancel_bookings": {
                "type": "boolean",
                "description": "cancel the bookings inside (each client is told); otherwise "
                "a closure over bookings is a 409 has_bookings that lists them",
            },
        },
    ),
    "Client": obj(
        {
            "telegram_id": {"type": "integer"},
            "name": {"type": "string"},
            "username": TEXT_OR_NULL,
            "phone": TEXT_OR_NULL,
            "upcoming": COUNT,
            "past": COUNT,
            "last_visit": {"type": ["string", "null"], "format": "date"},
        }
    ),
    "AdminBookRequest": obj({"telegram_id": {"type": "integer"}, "date": DATE, "start": TIME}),
    "Reason": obj({"reason": {"type": "string", "minLength": 1}}),
}


def error_response(description: str, schema: str = "Error") -> dict:
    return {"description": description, "content": {"application/json": {"schema": ref(schema)}}}


RESPONSES = {
    "BadRequest": error_response("Malformed input (error: invalid)."),
    "Unauthorized": error_response("Missing, forged or expired init data."),
    "Forbidden": error_response("Not a trainer (ADMIN_IDS)."),
    "NotFound": error_response("No such thing, or not the caller's."),
    "Refused": error_response("The rules refuse it: full, overlapping, closed, too_soon, …"),
    "RateLimited": {
        **error_response("Too many requests (error: rate_limited)."),
        "headers": {
            "Retry-After": {
                "description": "seconds to wait",
                "required": True,
                "schema": {"type": "integer", "minimum": 0},
            }
        },
    },
}


STATUS = {
    "BadRequest": "400",
    "Unauthorized": "401",
    "Forbidden": "403",
    "NotFound": "404",
    "Refused": "409",
    "RateLimited": "429",
}


def param(name: str, schema: dict, required: bool = False, where: str = "query") -> dict:
    return {"name": name, "in": where, "required": required or where == "path", "schema": schema}


def identifier(name: str) -> dict:
    return param(name, {"type": "integer", "minimum": 0}, where="path")


def operation(
    summary: str,
    status: int,
    schema: str | None,
    *,
    errors: tuple[str, ...] = (),
    body: str | None = None,
    params: tuple[dict, ...] = (),
    admin: bool = False,
    media_type: str = "application/json",
) -> dict:
    """One operation: its success, the errors it may answer, and those every call may."""
    content = {media_type: {"schema": ref(schema) if schema else {"type": "string"}}}
    responses = {str(status): {"description": summary, "content": content}}
    # Any call may be a 400: a NUL byte in any input is refused at the door (webapp/inputs.py).
    names = {"BadRequest", "Unauthorized", "RateLimited", *errors}
    names |= {"Forbidden"} if admin else set()
    for name in names:
        responses[STATUS[name]] = {"$ref": f"#/components/responses/{name}"}
    spec: dict = {"summary": summary, "tags": ["trainer" if admin else "client"]}
    if params:
        spec["parameters"] = list(params)
    if body is not None:
        spec["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": ref(body)}},
        }
    spec["responses"] = dict(sorted(responses.items()))
    return spec


BOOKING_ID = identifier("booking_id")
DAY = param("date", DATE, required=True)
NEW_START = ("BadRequest", "NotFound", "Refused")

PATHS = {
    "/api/openapi.json": {
        "get": {
            "summary": "This document",
            "tags": ["meta"],
            "security": [],
            "responses": {
                "200": {
                    "description": "The OpenAPI 3.1 document",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "429": {"$ref": "#/components/responses/RateLimited"},
            },
        }
    },
    "/api/slots": {
        "get": operation(
            "One day's cells: who may start a training where, and why not",
            200,
            "Day",
            errors=("BadRequest",),
            params=(DAY,),
        )
    },
    "/api/bookings": {
        "get": operation("The caller's upcoming active bookings", 200, "BookingList"),
        "post": operation("Book a training", 201, "Booking", body="Start", errors=("Refused",)),
    },
    "/api/bookings/{booking_id}": {
        "parameters": [BOOKING_ID],
        "delete": operation(
            "Cancel the caller's booking (until the cancel deadline)",
            200,
            "Booking",
            errors=("NotFound", "Refused"),
        ),
    },
    "/api/bookings/{booking_id}/reschedule": {
        "parameters": [BOOKING_ID],
        "post": operation(
            "Move the caller's booking; refused, the old booking stays as it was",
            200,
            "Booking",
            body="Start",
            errors=NEW_START,
        ),
    },
    "/api/waitlist": {
        "get": operation("The caller's waitlist entries to come", 200, "WaitlistList"),
        "post": operation(
            "Wait for a place at a full start",
            201,
            "WaitlistEntry",
            body="Start",
            errors=("Refused",),
        ),
    },
    "/api/waitlist/{entry_id}": {
        "parameters": [identifier("entry_id")],
        "delete": operation("Leave a waitlist", 200, "WaitlistEntry", errors=("NotFound",)),
    },
    "/api/admin/bookings": {
        "get": operation(
            "A day's bookings with their clients",
            200,
            "AdminBookingList",
            errors=("BadRequest",),
            params=(DAY, param("status", {"enum": ["active", "all"], "default": "active"})),
            admin=True,
        ),
        "post": operation(
            "Book for a client (no fair-use limits)",
            201,
            "AdminBooking",
            body="AdminBookRequest",
            errors=NEW_START,
            admin=True,
        ),
    },
    "/api/admin/bookings/{booking_id}/cancel": {
        "parameters": [BOOKING_ID],
        "post": operation(
            "Cancel any booking with a reason the client is told",
            200,
            "CancelledBooking",
            body="Reason",
            errors=("NotFound", "Refused"),
            admin=True,
        ),
    },
    "/api/admin/week": {
        "get": operation(
            "Booked places per day and cell, seven days from `from` (default today)",
            200,
            "Week",
            errors=("BadRequest",),
            params=(param("from", DATE),),
            admin=True,
        )
    },
    "/api/admin/hours": {
        "get": operation("Opening hours in force", 200, "Hours", admin=True),
        "put": operation(
            "Replace the opening hours; lists bookings now outside them",
            200,
            "HoursSaved",
            body="HoursRequest",
            errors=("Refused",),
            admin=True,
        ),
    },
    "/api/admin/closures": {
        "get": operation("Closures to come", 200, "ClosureList", admin=True),
        "post": operation(
            "Close a day or a time range",
            201,
            "ClosureAdded",
            body="ClosureRequest",
            errors=("Refused",),
            admin=True,
        ),
    },
    "/api/admin/closures/{closure_id}": {
        "parameters": [identifier("closure_id")],
        "delete": operation(
            "Reopen a closure", 200, "Closure", errors=("NotFound", "Refused"), admin=True
        ),
    },
    "/api/admin/clients": {
        "get": operation(
            "Clients by name or @username",
            200,
            "ClientList",
            params=(param("q", {"type": "string"}),),
            admin=True,
        )
    },
    "/api/admin/export.csv": {
        "get": operation(
            "Bookings of a date range as CSV (UTF-8 with BOM, studio-local times)",
            200,
            None,
            errors=("BadRequest",),
            params=(param("from", DATE, required=True), param("to", DATE, required=True)),
            admin=True,
            media_type="text/csv",
        )
    },
}

# Passes, attendance and the client card (webapp/passes.py).
SCHEMAS.update(
    {
        "PassChange": obj(
            {
                "kind": {"enum": ["created", "adjusted"]},
                "visits": {"type": "integer"},
                "days": {"type": "integer"},
                "reason": {"type": "string"},
                "by": {"type": ["integer", "null"]},
                "at": {"type": "string", "format": "date-time"},
            }
        ),
        "Pass": obj(
            {
                "id": {"type": "integer"},
                "telegram_id": {"type": "integer"},
                "visits": COUNT,
                "used": COUNT,
                "remaining": COUNT,
                "starts": DATE,
                "expires": DATE,
                "price": {"type": ["number", "null"]},
                "note": {"type": "string"},
            },
            {
                "valid": {"type": "boolean"},
                "history": {"type": "array", "items": ref("PassChange")},
            },
        ),
        "PassRequest": obj(
            {
                "telegram_id": {"type": "integer"},
                "visits": {"type": "integer", "minimum": 1},
                "valid_days": {"type": "integer", "minimum": 1},
            },
            {
                "starts": DATE,
                "price": {"type": ["number", "null"], "minimum": 0},
                "note": {"type": "string"},
            },
        ),
        "PassAdjustRequest": obj(
            {"reason": {"type": "string", "minLength": 1}},
            {"visits": {"type": "integer"}, "extend_days": {"type": "integer"}},
        ),
        "AttendanceRequest": obj({"status": {"enum": ["attended", "no_show"]}}),
        "ClientCard": obj(
            {
                "telegram_id": {"type": "integer"},
                "name": {"type": "string"},
                "username": TEXT_OR_NULL,
                "phone": TEXT_OR_NULL,
                "passes": {"type": "array", "items": ref("Pass")},
                "stats": obj(
                    {"attended": COUNT, "no_show": COUNT, "cancelled": COUNT},
                    {"unpaid": COUNT, "last_visit": {"type": ["string", "null"]}},
                ),
                "blocked": {"type": "boolean"},
            }
        ),
    }
)
TELEGRAM_ID = param("telegram_id", {"type": "integer", "minimum": 0}, where="path")
PATHS.update(
    {
        "/api/passes": {
            "get": operation("The caller's passes, valid ones first", 200, "PassList"),
        },
        "/api/admin/passes": {
            "post": operation(
                "Record a pass sold to a client",
                201,
                "Pass",
                body="PassRequest",
                errors=("NotFound", "Refused"),
                admin=True,
            )
        },
        "/api/admin/passes/{pass_id}/adjust": {
            "parameters": [identifier("pass_id")],
            "post": operation(
                "Add or remove visits, or move the expiry, with a reason kept in the history",
                200,
                "Pass",
                body="PassAdjustRequest",
                errors=("NotFound", "Refused"),
                admin=True,
            ),
        },
        "/api/admin/bookings/{booking_id}/attendance": {
            "parameters": [BOOKING_ID],
            "post": operation(
                "Mark a visitor attended or no-show once the training started",
                200,
                "AdminBooking",
                body="AttendanceRequest",
                errors=("NotFound", "Refused"),
                admin=True,
            ),
        },
        "/api/admin/clients/{telegram_id}": {
            "parameters": [TELEGRAM_ID],
            "get": operation(
                "A client's card: passes with history, visits, block state",
                200,
                "ClientCard",
                errors=("NotFound",),
                admin=True,
            ),
        },
        "/api/admin/clients/{telegram_id}/unblock": {
            "parameters": [TELEGRAM_ID],
            "post": operation(
                "Lift the no-show block (earlier no-shows no longer count)",
                200,
                "ClientCard",
                errors=("NotFound", "Refused"),
                admin=True,
            ),
        },
    }
)

SCHEMAS.update(
    {
        "SeriesRequest": obj(
            {"date": DATE, "start": TIME},
            {
                "weeks": {
                    "type": ["integer", "null"],
                    "minimum": 1,
                    "description": "at most SERIES_MAX_WEEKS; null or missing: until stopped",
                }
            },
        ),
        "Series": obj(
            {
                "id": {"type": "integer"},
                "weekday": {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": 6,
                    "description": "0 = Monday",
                },
                "start": TIME,
                "weeks": {"type": ["integer", "null"]},
                "until": {"type": ["string", "null"], "format": "date"},
                "bookings": {"type": "array", "items": ref("Booking")},
                "skipped": {
                    "type": "array",
                    "items": obj({"date": DATE, "reason": {"type": "string"}}),
                },
                "waiting": {"type": "array", "items": ref("Start")},
            },
            {"status": {"enum": ["active", "stopped"]}},
        ),
    }
)
SERIES_ID = identifier("series_id")
PATHS.update(
    {
        "/api/series": {
            "get": operation("The caller's standing bookings still running", 200, "SeriesList"),
            "post": operation(
                "Book a weekday and start every week: the dates inside the horizon now, later "
                "ones as they enter it (a full date joins the waitlist, others are skipped)",
                201,
                "Series",
                body="SeriesRequest",
                errors=("Refused",),
            ),
        },
        "/api/series/{series_id}": {
            "parameters": [SERIES_ID],
            "delete": operation(
                "Stop a standing booking; its bookings still before the cancel deadline are "
                "cancelled",
                200,
                "Series",
                errors=("NotFound",),
            ),
        },
        "/api/admin/series/{series_id}/stop": {
            "parameters": [SERIES_ID],
            "post": operation(
                "Stop a client's standing booking and cancel its bookings to come; the client "
                "is told the reason",
                200,
                "Series",
                body="Reason",
                errors=("NotFound",),
                admin=True,
            ),
        },
    }
)

# 409 has_bookings lists what a closure would cancel.
PATHS["/api/admin/closures"]["post"]["responses"]["409"] = {
    "description": "The closure holds bookings: nothing changed (error: has_bookings)",
    "content": {"application/json": {"schema": ref("HasBookings")}},
}

LISTS = {
    "BookingList": ("bookings", "Booking"),
    "AdminBookingList": ("bookings", "AdminBooking"),
    "WaitlistList": ("waitlist", "WaitlistEntry"),
    "ClosureList": ("closures", "Closure"),
    "ClientList": ("clients", "Client"),
    "PassList": ("passes", "Pass"),
    "SeriesList": ("series", "Series"),
}

DOCUMENT = {
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
    "paths": PATHS,
    "components": {
        "securitySchemes": {
            "telegramInitData": {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "`tma <initData>`: Telegram.WebApp.initData as Telegram signed "
                "it (HMAC-SHA256 keyed by the bot token), at most INIT_DATA_MAX_AGE old.",
            }
        },
        "schemas": {**SCHEMAS, **{name: listing(*pair) for name, pair in LISTS.items()}},
        "responses": RESPONSES,
    },
}


@bp.get("/openapi.json")
def document():
    return jsonify(DOCUMENT)
