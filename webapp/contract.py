"""The JSON API's contract, declared once: what each /api route takes and answers.

Each request body and query is a pydantic (v2) model; `ROUTES` names, per route, its body or
query model, its success model and the error statuses it may answer. The views read their input
through `body()` and `query()`, which validate it with the model their route names here, and
webapp/openapi.py builds the OpenAPI 3.1 document from the same models (`model_json_schema`)
and the same table. So what the document promises and what a route accepts cannot drift apart:
tests/webapp/test_openapi.py fails when a route under /api is missing here, and schemathesis
holds the live app to the document.

Why pydantic rather than apispec + marshmallow: one library gives both halves from one
declaration, type hints in, JSON Schema 2020-12 out, which is the dialect OpenAPI 3.1 speaks;
apispec is a second library that translates marshmallow fields into OpenAPI's 3.0 flavour of
JSON Schema (nullable, no type arrays). It is maintained by the people who write pydantic-core
(its validator in Rust), already in the environment through pydantic-settings, and validators
can call the domain's own parsers (`schedule.timegrid.parse_date`, `parse_start` with the
studio's grid given as the validation context), so a date or a start is read one way
everywhere: API, Mini App and bot.

A refusal is the domain's `InvalidInput` (a 400 {"error": "invalid", "message"}), its words
from the catalogs in the caller's language: the domain parsers raise their own, and a pydantic
error becomes the catalog entry for its kind (`KINDS`), naming the field.

Response models only describe (the views build their JSON in webapp/present.py and beside
the routes); they list the fields clients rely on as required and allow more, so that a field
added later breaks no client that validates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from flask import request
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
)
from pydantic_core import ErrorDetails

from schedule import InvalidInput, attendance, broadcasts, kinds, passes, payments
from schedule import series as standing
from schedule.availability import REFUSALS
from schedule.i18n import N_
from schedule.settings import WEEKDAYS
from schedule.timegrid import parse_date, parse_start
from schedule.trainer import MAX_TELEGRAM_ID

from .current import settings

# --- the values a request carries ----------------------------------------------------------

MAX_REASON = 500
DATE_SCHEMA = {"type": "string", "format": "date", "examples": ["2026-11-26"]}
TIME_SCHEMA = {"type": "string", "pattern": "^[0-9]{2}:[0-9]{2}$", "examples": ["10:00"]}


def _start(value: object, info: ValidationInfo) -> int:
    return parse_start(value, info.context["settings"])


def _maybe_date(value: object) -> date | None:
    return None if value is None else parse_date(value)


def _date_or_today(value: object) -> date | None:
    return parse_date(value) if value else None


def required_reason(value: object) -> str:
    """A reason the client reads (a trainer's cancel, a series stopped): text, not blank,
    trimmed, at most MAX_REASON characters. The trainer's forms read it the same way."""
    reason = value.strip() if isinstance(value, str) else ""
    if not reason:
        raise InvalidInput(N_("reason_required"))
    return reason[:MAX_REASON]


def _weeks(value: int | None, info: ValidationInfo) -> int | None:
    return standing.check_weeks(value, info.context["settings"])


def _intervals(value: object) -> object:
    """["08:00-12:00", "14:00-20:00"] reads like "08:00-12:00,14:00-20:00"."""
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return ",".join(value)
    return value


# A studio-local date, YYYY-MM-DD (schedule.timegrid.parse_date).
LocalDate = Annotated[date, BeforeValidator(parse_date), WithJsonSchema(DATE_SCHEMA)]
MaybeDate = Annotated[
    date | None,
    BeforeValidator(_maybe_date),
    WithJsonSchema({"anyOf": [DATE_SCHEMA, {"type": "null"}]}),
]
# A query's date that may be left out or empty (the view then takes today).
DateOrToday = Annotated[date | None, BeforeValidator(_date_or_today), WithJsonSchema(DATE_SCHEMA)]
# A training's start, HH:MM on the studio's grid, as minutes since local midnight.
Start = Annotated[int, BeforeValidator(_start), WithJsonSchema(TIME_SCHEMA)]
ClockTime = Annotated[str, Field(pattern=TIME_SCHEMA["pattern"], examples=["10:00"])]
TelegramId = Annotated[int, Field(ge=1, le=MAX_TELEGRAM_ID)]
Reason = Annotated[
    str,
    AfterValidator(required_reason),
    WithJsonSchema({"type": "string", "pattern": r"\S", "description": "for the client to read"}),
]
Weeks = Annotated[
    int | None,
    Field(ge=1, description="at most SERIES_MAX_WEEKS; null or missing: until stopped"),
    AfterValidator(_weeks),
]
Intervals = Annotated[
    str,
    BeforeValidator(_intervals),
    WithJsonSchema(
        {
            "oneOf": [
                {"type": "string", "examples": ["08:00-12:00,14:00-20:00", "closed"]},
                {"type": "array", "items": {"type": "string", "examples": ["08:00-18:00"]}},
            ]
        }
    ),
]
Weekday = Literal[WEEKDAYS]


def _query_id(value: object) -> object:
    """A query's id: "3" reads as 3, empty as left out; anything else fails as a whole number."""
    if value == "":
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 9:
        return int(value)
    return value


RowId = Annotated[int, Field(ge=1, le=2**31 - 1)]
# A kind's or a trainer's id in a query string (?kind=2&trainer=1).
QueryId = Annotated[
    RowId | None,
    BeforeValidator(_query_id),
    WithJsonSchema({"type": "integer", "minimum": 1}),
]


class Request(BaseModel):
    """A body or a query: exact JSON types (no "5" for 5, no 1 for true); fields not named
    here are ignored."""

    model_config = ConfigDict(strict=True, populate_by_name=True)


# --- request bodies ------------------------------------------------------------------------


class StartRequest(Request):
    """A start: {"date": "2026-11-26", "start": "10:00"}."""

    date: LocalDate
    start: Start


class BookRequest(StartRequest):
    """A start, optionally of a kind and with a trainer (DESIGN.md, "Trainers and kinds")."""

    kind: RowId | None = Field(None, description="a kind's id; left out: the default kind")
    trainer: RowId | None = Field(None, description="a trainer's id; left out: any of the kind's")


class TrainerRequest(Request):
    telegram_id: TelegramId
    name: str = Field(min_length=1, max_length=kinds.MAX_NAME)
    opening_hours: str | None = Field(
        None, description="written like OPENING_HOURS; left out: the studio's"
    )


class KindRequest(Request):
    name: str = Field(min_length=1, max_length=kinds.MAX_NAME)
    minutes: int = Field(description="a multiple of SLOT_MINUTES")
    capacity: int = Field(description="visitors at once, at least 1")
    trainer_ids: list[RowId] = Field(description="who gives it")


class TrainerEditRequest(Request):
    """What changes (a field left out stays as it is)."""

    name: str | None = Field(None, min_length=1, max_length=kinds.MAX_NAME)
    opening_hours: str | None = Field(
        None, description="written like OPENING_HOURS; null: the studio's; left out: unchanged"
    )


class KindEditRequest(Request):
    """What changes (a field left out stays as it is). A new length, fewer visitors, or a
    trainer taken off who gives it then are refused while the kind has bookings to come."""

    name: str | None = Field(None, min_length=1, max_length=kinds.MAX_NAME)
    minutes: int | None = Field(None, description="a multiple of SLOT_MINUTES")
    capacity: int | None = Field(None, description="visitors at once, at least 1")
    trainer_ids: list[RowId] | None = Field(None, description="who gives it")


class AdminBookRequest(StartRequest):
    telegram_id: TelegramId


class ReasonRequest(Request):
    reason: Reason


class HoursRequest(Request):
    hours: dict[Weekday, Intervals] = Field(
        description="intervals per weekday; a day left out is closed"
    )


class ClosureRequest(Request):
    date: LocalDate
    start: ClockTime | None = None
    end: ClockTime | None = Field(None, description="HH:MM, 24:00 for the end of the day")
    reason: str | None = None
    cancel_bookings: bool = Field(
        False,
        description="cancel the bookings inside (each client is told); otherwise a closure "
        "over bookings is a 409 has_bookings that lists them",
    )


class PassRequest(Request):
    telegram_id: TelegramId
    visits: int = Field(ge=1, le=passes.MAX_VISITS)
    valid_days: int = Field(ge=1, le=passes.MAX_DAYS)
    starts: MaybeDate = None
    price: float | None = Field(None, ge=0, lt=passes.MAX_PRICE_CENTS / 100)
    note: str | None = None


class PassAdjustRequest(Request):
    reason: str = Field(description="kept in the pass's history; not blank")
    visits: int | None = Field(None, ge=-passes.MAX_VISITS, le=passes.MAX_VISITS)
    extend_days: int | None = Field(None, ge=-passes.MAX_DAYS, le=passes.MAX_DAYS)


class ProductRequest(Request):
    """A product on sale (DESIGN.md, "Products and payments"): visits null = a membership."""

    name: str = Field(min_length=1, max_length=payments.MAX_NAME)
    visits: int | None = Field(None, ge=1, le=passes.MAX_VISITS, description="null: a membership")
    valid_days: int = Field(ge=1, le=passes.MAX_DAYS)
    per_week: int | None = Field(
        None, ge=1, le=payments.MAX_WEEKLY, description="a membership's weekly cap"
    )
    amount: int = Field(ge=1, le=payments.MAX_AMOUNT, description="minor units (kopecks)")
    currency: str | None = Field(None, description="ISO 4217; default PAYMENT_CURRENCY")


class FreezeRequest(Request):
    days: int = Field(ge=1, le=payments.MAX_FREEZE_DAYS)
    reason: str = Field(description="kept in the pass's history; not blank")


class AttendanceRequest(Request):
    status: Literal[attendance.STATUSES]


class SeriesRequest(StartRequest):
    weeks: Weeks = None


# The trainer's broadcast (webapp/broadcasts.py, schedule/broadcasts.py).
AUDIENCE_SCHEMA = {
    "type": "string",
    "pattern": r"^(all|date:[0-9]{4}-[0-9]{2}-[0-9]{2}|kind:[0-9]+)$",
    "examples": ["all", "date:2026-11-26", "kind:1"],
    "description": "all clients, those booked on a date, or one kind's clients",
}


class BroadcastRequest(Request):
    text: Annotated[
        str,
        AfterValidator(broadcasts.check_text),
        WithJsonSchema(
            {
                "type": "string",
                "pattern": r"\S",
                "description": "plain text, sent as written; at most 4,096 characters as "
                "Telegram counts them",
            }
        ),
    ]
    audience: Annotated[str, WithJsonSchema(AUDIENCE_SCHEMA)]


# --- queries -------------------------------------------------------------------------------


class BookingsQuery(Request):
    scope: Annotated[
        Literal["upcoming", "history"] | None, BeforeValidator(lambda value: value or None)
    ] = Field(
        None,
        description="history: the last 90 days' bookings that ended or were cancelled, newest "
        'first, each with "cancelled_by" and "reason"; left out: the upcoming active ones',
    )


class DayQuery(Request):
    date: LocalDate


class SlotsQuery(DayQuery):
    kind: QueryId = Field(None, description="a kind's id; left out: the default kind")
    trainer: QueryId = Field(None, description="a trainer's id; left out: any of the kind's")


class AdminDayQuery(DayQuery):
    status: Literal["active", "all"] = Field("active", description="all: cancelled ones too")
    trainer: QueryId = Field(
        None, description="an owner's filter: one trainer's day (a trainer sees their own)"
    )


class ShareQuery(Request):
    """A start to share: ?date=2026-12-10&start=18:00."""

    date: LocalDate
    start: Start


class WeekQuery(Request):
    first: DateOrToday = Field(None, alias="from", description="the first day; default today")


class ClientsQuery(Request):
    q: str = Field("", description="a name or @username; the first 64 characters count")


class ExportQuery(Request):
    first: LocalDate = Field(alias="from")
    last: LocalDate = Field(alias="to")


# --- answers -------------------------------------------------------------------------------

DateText = Annotated[str, WithJsonSchema(DATE_SCHEMA)]
TimeText = Annotated[str, WithJsonSchema(TIME_SCHEMA)]
Count = Annotated[int, Field(ge=0)]


class Error(BaseModel):
    error: str = Field(description="a stable code: invalid, full, …")
    message: str = Field(description="for people, in the user's language")


class User(BaseModel):
    telegram_id: int
    name: str
    username: str | None
    phone: str | None


class Booking(BaseModel):
    id: int
    date: DateText
    start: TimeText
    end: TimeText
    status: Literal["active", "cancelled"]
    pass_id: int | None = Field(description="null: unpaid")
    attendance: Literal["attended", "no_show"] | None
    forfeited: bool = Field(False, description="cancelled late under LATE_CANCEL=forfeit")
    kind: int | None = Field(None, description="the kind's id (1: the default kind)")
    trainer: int | None = Field(None, description="the trainer's id; null: the studio")


class AdminBooking(Booking):
    user: User


class CancelledBooking(AdminBooking):
    cancel_reason: str | None


class HasBookings(Error):
    bookings: list[AdminBooking]


class Slot(BaseModel):
    start: TimeText
    end: TimeText
    booked: Count
    free: Count
    can_start: bool
    mine: bool
    refusal: Literal[REFUSALS] | None
    places: Count
    can_wait: bool
    waitlisted: bool | None = None
    trainer_ids: list[int] | None = Field(
        None, description="any trainer asked for (with trainers): who could take a training here"
    )


class Day(BaseModel):
    date: DateText
    timezone: str
    capacity: Count
    training_minutes: Count
    slot_minutes: Count
    slots: list[Slot]


class WaitlistEntry(BaseModel):
    id: int
    date: DateText
    start: TimeText
    end: TimeText
    position: int | None = Field(None, ge=1)
    status: Literal["left"] | None = None
    kind: int | None = Field(None, description="the kind waited for (1: the default kind)")
    trainer: int | None = Field(None, description="the trainer asked for; null: any")


class WeekCell(BaseModel):
    start: TimeText
    booked: Count
    free: Count


class WeekDay(BaseModel):
    date: DateText
    booked: Count
    cells: list[WeekCell]


class Week(BaseModel):
    first: DateText = Field(alias="from")
    capacity: Count
    days: list[WeekDay]


class Hours(BaseModel):
    timezone: str
    hours: dict[Weekday, list[str]]


class HoursSaved(Hours):
    outside_hours: list[AdminBooking]


class Closure(BaseModel):
    id: int
    date: DateText
    start: TimeText
    end: str = Field(description="HH:MM, 24:00 for the end of the day")
    whole_day: bool
    reason: str | None


class ClosureAdded(Closure):
    cancelled: list[AdminBooking]


class Client(User):
    upcoming: Count
    past: Count
    last_visit: DateText | None


class PassChange(BaseModel):
    kind: Literal["created", "adjusted", "frozen", "refunded", "forgiven"]
    visits: int
    days: int
    reason: str
    by: int | None
    at: str = Field(json_schema_extra={"format": "date-time"})


class Pass(BaseModel):
    id: int
    telegram_id: int
    visits: Count | None = Field(description="null: a membership")
    used: Count
    remaining: Count | None
    starts: DateText
    expires: DateText
    price: float | None
    note: str
    valid: bool | None = None
    history: list[PassChange] | None = None
    product_id: int | None = None
    payment_id: int | None = None
    per_week: int | None = None
    frozen_days: Count = 0


class Stats(BaseModel):
    attended: Count
    no_show: Count
    cancelled: Count
    unpaid: Count | None = None
    last_visit: DateText | None = None


class ClientCard(User):
    passes: list[Pass]
    stats: Stats
    blocked: bool


class Skipped(BaseModel):
    date: DateText
    reason: str


class Waiting(BaseModel):
    date: DateText
    start: TimeText


class Series(BaseModel):
    id: int
    weekday: int = Field(ge=0, le=6, description="0 = Monday")
    start: TimeText
    weeks: int | None
    until: DateText | None
    bookings: list[Booking]
    skipped: list[Skipped]
    waiting: list[Waiting]
    status: Literal["active", "stopped"] | None = None


class BookingList(BaseModel):
    bookings: list[Booking]


class AdminBookingList(BaseModel):
    bookings: list[AdminBooking]


class WaitlistList(BaseModel):
    waitlist: list[WaitlistEntry]


class ClosureList(BaseModel):
    closures: list[Closure]


class ClientList(BaseModel):
    clients: list[Client]


class PassList(BaseModel):
    passes: list[Pass]


class SeriesList(BaseModel):
    series: list[Series]


class Product(BaseModel):
    id: int
    name: str
    visits: int | None
    valid_days: int
    per_week: int | None
    amount: int = Field(description="minor units (kopecks)")
    currency: str
    on_sale: bool
    price_text: str | None = Field(None, description="the price as the caller's language writes it")


class ProductList(BaseModel):
    products: list[Product]


class InvoiceLink(BaseModel):
    invoice_link: str


class ShareLink(BaseModel):
    url: str = Field(
        description="https://t.me/<bot>/<MINIAPP_SHORT_NAME>?startapp=d20261210t1800: opens the "
        "Mini App on that day with that start's sheet",
        examples=["https://t.me/studio_bot/book?startapp=d20261210t1800"],
    )


class Payment(BaseModel):
    id: int
    telegram_id: int
    product_id: int | None
    amount: int
    currency: str
    pass_id: int | None
    status: Literal["paid", "refunded"]
    telegram_payment_charge_id: str
    provider_payment_charge_id: str
    created: str = Field(json_schema_extra={"format": "date-time"})
    refund_reason: str | None = None


class PaymentList(BaseModel):
    payments: list[Payment]


class Trainer(BaseModel):
    id: int
    telegram_id: int
    name: str
    opening_hours: str
    retired: bool = Field(False, description="removed: nobody books them again")


class TrainerEdited(Trainer):
    outside_hours: list[AdminBooking] = Field(
        description="their bookings to come that the new hours no longer cover (kept booked)"
    )


class TrainerName(BaseModel):
    id: int
    name: str


class TrainerList(BaseModel):
    trainers: list[TrainerName]


class Kind(BaseModel):
    id: int
    name: str
    minutes: Count
    capacity: Count
    trainer_ids: list[int]
    retired: bool = Field(False, description="removed: nobody books it again")


class KindList(BaseModel):
    kinds: list[Kind] = Field(description="the default kind first")


class BroadcastSent(BaseModel):
    id: int
    recipients: Count
    sent: Count


class BroadcastProgress(BroadcastSent):
    failed: Count = Field(description="refused by Telegram, expired, or the client stopped them")


@dataclass(frozen=True)
class Content:
    """A success that is no model: its media type and schema."""

    media_type: str
    schema: dict


CSV = Content("text/csv", {"type": "string"})
OPENAPI = Content("application/json", {"type": "object"})


# --- the routes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """One operation: what it takes (`body`, `query`; path ids come from its path), what it
    answers (`status` with `ok`), the errors of its own (400, 401 and 429 any call may answer;
    403 any trainer's call), and, where an error has more than {"error", "message"}, its
    model (`error_models`)."""

    method: str
    path: str  # as OpenAPI writes it: /api/bookings/{booking_id}
    summary: str
    ok: type[BaseModel] | Content
    status: int = 200
    body: type[Request] | None = None
    query: type[Request] | None = None
    errors: tuple[int, ...] = ()
    error_models: tuple[tuple[int, type[Error]], ...] = ()
    admin: bool = False
    public: bool = False  # no init data needed

    @property
    def path_ids(self) -> tuple[str, ...]:
        """The ids in its path ({booking_id}): whole numbers, which Flask's <int:…> reads."""
        return tuple(PATH_PART.findall(self.path))

    @property
    def tag(self) -> str:
        return "meta" if self.public else "trainer" if self.admin else "client"


PATH_PART = re.compile(r"{(\w+)}")
PATH_ID = {"type": "integer", "minimum": 0}
NEW_START = (404, 409)

ROUTES = (
    Route("GET", "/api/openapi.json", "This document", OPENAPI, public=True),
    Route(
        "GET",
        "/api/slots",
        "One day's cells: who may start a training where, and why not",
        Day,
        query=SlotsQuery,
    ),
    Route(
        "GET",
        "/api/bookings",
        "The caller's upcoming active bookings, or their history",
        BookingList,
        query=BookingsQuery,
    ),
    Route(
        "POST",
        "/api/bookings",
        "Book a training (of a kind, with a trainer)",
        Booking,
        status=201,
        body=BookRequest,
        errors=(409,),
    ),
    Route(
        "DELETE",
        "/api/bookings/{booking_id}",
        "Cancel the caller's booking (until the cancel deadline)",
        Booking,
        errors=(404, 409),
    ),
    Route(
        "POST",
        "/api/bookings/{booking_id}/reschedule",
        "Move the caller's booking; refused, the old booking stays as it was",
        Booking,
        body=StartRequest,
        errors=NEW_START,
    ),
    Route("GET", "/api/waitlist", "The caller's waitlist entries to come", WaitlistList),
    Route(
        "POST",
        "/api/waitlist",
        "Wait for a place at a full start (of a kind, with a trainer)",
        WaitlistEntry,
        status=201,
        body=BookRequest,
        errors=(409,),
    ),
    Route("DELETE", "/api/waitlist/{entry_id}", "Leave a waitlist", WaitlistEntry, errors=(404,)),
    Route(
        "GET",
        "/api/admin/bookings",
        "A day's bookings with their clients",
        AdminBookingList,
        query=AdminDayQuery,
        admin=True,
    ),
    Route(
        "POST",
        "/api/admin/bookings",
        "Book for a client (no fair-use limits)",
        AdminBooking,
        status=201,
        body=AdminBookRequest,
        errors=NEW_START,
        admin=True,
    ),
    Route(
        "POST",
        "/api/admin/bookings/{booking_id}/cancel",
        "Cancel any booking with a reason the client is told",
        CancelledBooking,
        body=ReasonRequest,
        errors=(404, 409),
        admin=True,
    ),
    Route(
        "GET",
        "/api/admin/week",
        "Booked places per day and cell, seven days from `from` (default today)",
        Week,
        query=WeekQuery,
        admin=True,
    ),
    Route("GET", "/api/admin/hours", "Opening hours in force", Hours, admin=True),
    Route(
        "PUT",
        "/api/admin/hours",
        "Replace the opening hours; lists bookings now outside them",
        HoursSaved,
        body=HoursRequest,
        errors=(409,),
        admin=True,
    ),
    Route("GET", "/api/admin/closures", "Closures to come", ClosureList, admin=True),
    Route(
        "POST",
        "/api/admin/closures",
        "Close a day or a time range",
        ClosureAdded,
        status=201,
        body=ClosureRequest,
        errors=(409,),
        error_models=((409, HasBookings),),
        admin=True,
    ),
    Route(
        "DELETE",
        "/api/admin/closures/{closure_id}",
        "Reopen a closure",
        Closure,
        errors=(404, 409),
        admin=True,
    ),
    Route(
        "GET",
        "/api/admin/clients",
        "Clients by name or @username",
        ClientList,
        query=ClientsQuery,
        admin=True,
    ),
    Route(
        "GET",
        "/api/admin/export.csv",
        "Bookings of a date range as CSV (UTF-8 with BOM, studio-local times)",
        CSV,
        query=ExportQuery,
        admin=True,
    ),
    Route("GET", "/api/passes", "The caller's passes, valid ones first", PassList),
    Route(
        "POST",
        "/api/admin/passes",
        "Record a pass sold to a client",
        Pass,
        status=201,
        body=PassRequest,
        errors=(404, 409),
        admin=True,
    ),
    Route(
        "POST",
        "/api/admin/passes/{pass_id}/adjust",
        "Add or remove visits, or move the expiry, with a reason kept in the history",
        Pass,
        body=PassAdjustRequest,
        errors=(404, 409),
        admin=True,
    ),
    Route(
        "POST",
        "/api/admin/bookings/{booking_id}/attendance",
        "Mark a visitor attended or no-show once the training started",
        AdminBooking,
        body=AttendanceRequest,
        errors=(404, 409),
        admin=True,
    ),
    Route(
        "GET",
        "/api/admin/clients/{telegram_id}",
        "A client's card: passes with history, visits, block state",
        ClientCard,
        errors=(404,),
        admin=True,
    ),
    Route(
        "POST",
        "/api/admin/clients/{telegram_id}/unblock",
        "Lift the no-show block (earlier no-shows no longer count)",
        ClientCard,
        errors=(404, 409),
        admin=True,
    ),
    Route("GET", "/api/series", "The caller's standing bookings still running", SeriesList),
    Route(
        "POST",
        "/api/series",
        "Book a weekday and start every week: the dates inside the horizon now, later ones as "
        "they enter it (a full date joins the waitlist, others are skipped)",
        Series,
        status=201,
        body=SeriesRequest,
        errors=(409,),
    ),
    Route(
        "DELETE",
        "/api/series/{series_id}",
        "Stop a standing booking; its bookings still before the cancel deadline are cancelled",
        Series,
        errors=(404,),
    ),
    Route(
        "POST",
        "/api/admin/series/{series_id}/stop",
        "Stop a client's standing booking and cancel its bookings to come; the client is told "
        "the reason",
        Series,
        body=ReasonRequest,
        errors=(404,),
        admin=True,
    ),
    # Products and payments (webapp/payments.py)
    Route("GET", "/api/products", "Products on sale", ProductList),
    Route(
        "POST",
        "/api/admin/products",
        "Put a product on sale: a pack of visits, or (visits null) a membership",
        Product,
        status=201,
        body=ProductRequest,
        admin=True,
    ),
    Route(
        "DELETE",
        "/api/admin/products/{product_id}",
        "Take a product off sale (passes sold stay valid)",
        Product,
        errors=(404,),
        admin=True,
    ),
    Route(
        "POST",
        "/api/products/{product_id}/invoice",
        "An invoice link for the caller (Telegram.WebApp.openInvoice)",
        InvoiceLink,
        errors=(404, 409),
    ),
    Route("GET", "/api/admin/payments", "Payments, newest first", PaymentList, admin=True),
    Route(
        "POST",
        "/api/admin/payments/{payment_id}/refund",
        "Mark a payment refunded and void its pass",
        Payment,
        body=ReasonRequest,
        errors=(404, 409),
        admin=True,
    ),
    Route(
        "POST",
        "/api/admin/passes/{pass_id}/freeze",
        "Freeze a pass: its expiry moves by the days, the reason in its history",
        Pass,
        body=FreezeRequest,
        errors=(404,),
        admin=True,
    ),
    Route(
        "POST",
        "/api/admin/bookings/{booking_id}/forgive",
        "Forgive a late cancel: the visit returns to its pass",
        AdminBooking,
        errors=(404, 409),
        admin=True,
    ),
    # Links that open one training (webapp/links.py)
    Route(
        "GET",
        "/api/admin/share",
        "The link that opens the Mini App on a start (409 share_off without MINIAPP_SHORT_NAME "
        "or the bot's username)",
        ShareLink,
        query=ShareQuery,
        errors=(409,),
        admin=True,
    ),
    # Trainers and kinds of training (webapp/trainers.py)
    Route("GET", "/api/trainers", "The studio's trainers", TrainerList),
    Route("GET", "/api/kinds", "Kinds of training, the default kind first", KindList),
    Route(
        "POST",
        "/api/admin/trainers",
        "Add a trainer (an owner): their Telegram id, name and opening hours",
        Trainer,
        status=201,
        body=TrainerRequest,
        admin=True,
    ),
    Route(
        "POST",
        "/api/admin/kinds",
        "Add a kind of training (an owner): its length, visitors at once, who gives it",
        Kind,
        status=201,
        body=KindRequest,
        admin=True,
    ),
    Route(
        "PATCH",
        "/api/admin/trainers/{trainer_id}",
        "Rename a trainer or change their hours (an owner); lists their bookings now outside",
        TrainerEdited,
        body=TrainerEditRequest,
        errors=(404,),
        admin=True,
    ),
    Route(
        "DELETE",
        "/api/admin/trainers/{trainer_id}",
        "Remove a trainer (an owner): refused (409) while they have bookings to come or are "
        "a kind's only trainer; their past bookings keep naming them",
        Trainer,
        errors=(404, 409),
        admin=True,
    ),
    Route(
        "PATCH",
        "/api/admin/kinds/{kind_id}",
        "Change a kind (an owner): a new length, fewer places or a trainer taken off are "
        "refused (409 kind_has_bookings) while it has bookings to come",
        Kind,
        body=KindEditRequest,
        errors=(404, 409),
        admin=True,
    ),
    Route(
        "DELETE",
        "/api/admin/kinds/{kind_id}",
        "Remove a kind (an owner): refused (409 kind_has_bookings) while it has bookings to come",
        Kind,
        errors=(404, 409),
        admin=True,
    ),
    Route(
        "GET",
        "/api/admin/trainers/{trainer_id}/closures",
        "A trainer's own closures to come (owners, and that trainer)",
        ClosureList,
        errors=(404,),
        admin=True,
    ),
    Route(
        "POST",
        "/api/admin/trainers/{trainer_id}/closures",
        "Close a day or a time range of one trainer's (owners, and that trainer)",
        ClosureAdded,
        status=201,
        body=ClosureRequest,
        errors=(404, 409),
        error_models=((409, HasBookings),),
        admin=True,
    ),
    Route(
        "DELETE",
        "/api/admin/trainers/{trainer_id}/closures/{closure_id}",
        "Reopen a trainer's own closure (owners, and that trainer)",
        Closure,
        errors=(404,),
        admin=True,
    ),
    # The trainer's messages to clients (webapp/broadcasts.py)
    Route(
        "POST",
        "/api/admin/broadcasts",
        "Write to all clients, those booked on a date, or one kind's; each recipient's message "
        "goes through the outbox at Telegram's pace",
        BroadcastSent,
        status=202,
        body=BroadcastRequest,
        admin=True,
    ),
    Route(
        "GET",
        "/api/admin/broadcasts/{broadcast_id}",
        "How many of a broadcast's messages were delivered and how many failed",
        BroadcastProgress,
        errors=(404,),
        admin=True,
    ),
)

BY_OPERATION = {(route.method, route.path): route for route in ROUTES}
RULE_PART = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def openapi_path(rule: str) -> str:
    """A Flask rule as OpenAPI writes its path: /api/bookings/<int:booking_id> ->
    /api/bookings/{booking_id}."""
    return RULE_PART.sub(r"{\1}", rule)


# --- reading a request ---------------------------------------------------------------------


def current_route() -> Route:
    """The table's entry for the route serving this request (a route missing here is a bug)."""
    rule = request.url_rule.rule if request.url_rule is not None else request.path
    return BY_OPERATION[(request.method, openapi_path(rule))]


def body() -> Any:
    """The JSON body, read by the model the route's entry names; InvalidInput otherwise."""
    route = current_route()
    if route.body is None:
        raise LookupError(f"{route.method} {route.path} takes no body")
    return validated(route.body, request.get_json(silent=True))


def query() -> Any:
    """The query string, read by the model the route's entry names; InvalidInput otherwise."""
    route = current_route()
    if route.query is None:
        raise LookupError(f"{route.method} {route.path} takes no query")
    return validated(route.query, request.args.to_dict())


def validated(model: type[Request], data: object) -> Any:
    """`data` as `model` (the studio's settings are the validators' context), or the first
    thing wrong with it as an InvalidInput in the catalogs' words."""
    try:
        return model.model_validate(data, context={"settings": settings()})
    except ValidationError as error:
        raise refusal(error.errors(include_url=False)[0], model) from None


# What a pydantic error's kind says, by its type (the entry "input_field" for any other kind).
KINDS = {
    "missing": N_("input_missing"),
    "model_type": N_("input_object"),
    "model_attributes_type": N_("input_object"),
    "dict_type": N_("input_mapping"),
    "int_type": N_("input_whole"),
    "int_from_float": N_("input_whole"),
    "float_type": N_("input_number"),
    "finite_number": N_("input_number"),
    "string_type": N_("input_text"),
    "bool_type": N_("input_bool"),
    "list_type": N_("input_list"),
    "greater_than_equal": N_("input_at_least"),
    "greater_than": N_("input_at_least"),
    "less_than_equal": N_("input_at_most"),
    "less_than": N_("input_at_most"),
    "literal_error": N_("input_choice"),
    "string_too_short": N_("input_empty"),
    "string_too_long": N_("input_too_long"),
}
OTHER_KIND = N_("input_field")


def refusal(error: ErrorDetails, model: type[Request]) -> InvalidInput:
    """A pydantic error as the refusal a person reads: its kind's entry, naming the field."""
    where = [str(part) for part in error["loc"] if part != "[key]"]
    if not where:  # the whole body or query: say what it should be
        fields = ", ".join(f'"{field.alias or name}"' for name, field in model.model_fields.items())
        return InvalidInput(N_("input_object"), fields=fields)
    context = error.get("ctx") or {}
    limit = next((context[k] for k in ("ge", "gt", "le", "lt", "max_length") if k in context), "")
    return InvalidInput(
        KINDS.get(error["type"], OTHER_KIND),
        field=".".join(where),
        limit=limit,
        choices=context.get("expected", ""),
    )
