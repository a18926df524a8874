"""Callback data of inline buttons: compact, versioned, validated.

A button carries `1|<action>|<field>|...`, e.g. `1|K|20261125|1000` (book 25 Nov 10:00) or
`1|X|42` (cancel booking 42); a waitlist entry is named by its start (`1|L|20261125|1000`),
for a client waits at most once for each start. A standing booking is made from a booked
training and a number of weeks (`1|RW|42|8`, 0 = until stopped) and stopped by its id
(`1|SX|7`). A move names the booking and where it goes (`1|VK|42|20261126|1200`). The trainer's
cancel reason is typed (a reply to the bot's question), so no button carries it. Telegram caps
callback data at 64 bytes (the longest here, `1|PK|<kind>|<trainer>|<day>|<time>`, is 38), and a
client can send any bytes it likes, so `decode` trusts nothing: an unknown version, action or
field shape is a `BadCallback`. Decoding proves only the shape; handlers re-check ownership and
state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from schedule.timegrid import FIRST_DAY, LAST_DAY

VERSION = "1"
SEPARATOR = "|"
MAX_BYTES = 64

MENU = "S"  # the /start menu
DAYS = "B"  # bookable days
DAY = "D"  # starts of a day
PICK = "T"  # a start chosen: confirm or back
BOOK = "K"  # confirmed: book it
MY = "M"  # my trainings
CANCEL_ASK = "C"  # cancel my booking: confirm or back
CANCEL = "X"  # confirmed: cancel it
ADMIN_DAY = "A"  # the trainer's view of a day
ADMIN_CANCEL_ASK = "AC"  # the trainer is asked to type the reason (a reply cancels)
WAIT_ASK = "W"  # a full start chosen: join its waitlist, or back
WAIT = "J"  # confirmed: join the waitlist
LEAVE = "L"  # leave my waitlist entry for that start
ADMIN_ATTENDED = "AA"  # the trainer marks a visitor attended
ADMIN_NO_SHOW = "AN"  # the trainer marks a visitor no-show
REPEAT_ASK = "R"  # repeat my booked training weekly: choose for how many weeks
REPEAT_PICK = "RP"  # weeks chosen: what it will do, confirm or back
REPEAT = "RW"  # confirmed: make the standing booking (weeks 0: until stopped)
SERIES_STOP_ASK = "SS"  # stop my standing booking: confirm or back
SERIES_STOP = "SX"  # confirmed: stop it
MOVE_ASK = "V"  # move my booking: the days it may go to
MOVE_DAY = "VD"  # the starts of a day it may go to
MOVE_PICK = "VT"  # a start chosen: what the move will do, confirm or back
MOVE = "VK"  # confirmed: move it there
# Kinds of training (schedule.kinds): /book asks which kind first when there are several; the
# default kind then goes on with DAY, PICK and BOOK, another kind with these.
KINDS = "KN"  # which kind of training
KIND_DAYS = "KB"  # a kind's bookable days
KIND_DAY = "KD"  # a kind's starts on a day
KIND_PICK = "KT"  # a kind's start chosen: confirm or back
KIND_BOOK = "KK"  # confirmed: book that kind there
# Trainers (issue 25): once the studio has several kinds or several trainers of a kind, /book
# carries the kind and the trainer chosen (0: any of the kind's) from the days on. KIND_DAYS is
# then "this kind": its trainers to choose from when several give it, else its days. The
# KIND_DAY, KIND_PICK and KIND_BOOK of older messages still work, for any trainer.
TRAINER_DAYS = "PB"  # a kind's bookable days with a trainer
TRAINER_DAY = "PD"  # a kind's starts on a day with a trainer
TRAINER_PICK = "PT"  # a start chosen: confirm or back
TRAINER_BOOK = "PK"  # confirmed: book that kind with that trainer there
TRAINER_WAIT_ASK = "PW"  # a full start chosen: join its waitlist, or back
TRAINER_WAIT = "PJ"  # confirmed: join the waitlist

# The fields each action carries, in order.
FIELDS: dict[str, tuple[str, ...]] = {
    MENU: (),
    DAYS: (),
    DAY: ("day",),
    PICK: ("day", "minute"),
    BOOK: ("day", "minute"),
    MY: (),
    CANCEL_ASK: ("booking_id",),
    CANCEL: ("booking_id",),
    ADMIN_DAY: ("day",),
    ADMIN_CANCEL_ASK: ("booking_id",),
    WAIT_ASK: ("day", "minute"),
    WAIT: ("day", "minute"),
    LEAVE: ("day", "minute"),
    ADMIN_ATTENDED: ("booking_id",),
    ADMIN_NO_SHOW: ("booking_id",),
    REPEAT_ASK: ("booking_id",),
    REPEAT_PICK: ("booking_id", "weeks"),
    REPEAT: ("booking_id", "weeks"),
    SERIES_STOP_ASK: ("series_id",),
    SERIES_STOP: ("series_id",),
    MOVE_ASK: ("booking_id",),
    MOVE_DAY: ("booking_id", "day"),
    MOVE_PICK: ("booking_id", "day", "minute"),
    MOVE: ("booking_id", "day", "minute"),
    KINDS: (),
    KIND_DAYS: ("kind",),
    KIND_DAY: ("kind", "day"),
    KIND_PICK: ("kind", "day", "minute"),
    KIND_BOOK: ("kind", "day", "minute"),
    TRAINER_DAYS: ("kind", "trainer"),
    TRAINER_DAY: ("kind", "trainer", "day"),
    TRAINER_PICK: ("kind", "trainer", "day", "minute"),
    TRAINER_BOOK: ("kind", "trainer", "day", "minute"),
    TRAINER_WAIT_ASK: ("kind", "trainer", "day", "minute"),
    TRAINER_WAIT: ("kind", "trainer", "day", "minute"),
}

_SHAPES = {
    "day": re.compile(r"^\d{8}$"),
    "minute": re.compile(r"^\d{4}$"),
    "booking_id": re.compile(r"^[1-9]\d{0,11}$"),
    "series_id": re.compile(r"^[1-9]\d{0,11}$"),
    "weeks": re.compile(r"^\d{1,2}$"),
    "kind": re.compile(r"^[1-9]\d{0,8}$"),
    "trainer": re.compile(r"^(?:0|[1-9]\d{0,8})$"),  # 0: any trainer of the kind
}


class BadCallback(ValueError):
    """Callback data this version of the bot did not make (stale, or forged)."""


@dataclass(frozen=True)
class Callback:
    action: str
    day: date | None = None
    minute: int | None = None
    booking_id: int | None = None
    series_id: int | None = None
    weeks: int | None = None
    kind: int | None = None
    trainer: int | None = None  # 0: any trainer of the kind

    def encode(self) -> str:
        parts = [VERSION, self.action]
        for name in FIELDS[self.action]:
            parts.append(_encode_field(name, getattr(self, name)))
        data = SEPARATOR.join(parts)
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
        return data


def _encode_field(name: str, value: object) -> str:
    if value is None:
        raise ValueError(f"callback field {name} is missing")
    if name == "day":
        return value.strftime("%Y%m%d")  # type: ignore[attr-defined]
    if name == "minute":
        return f"{value // 60:02d}{value % 60:02d}"  # type: ignore[operator]
    return str(value)


def encode(action: str, **fields: object) -> str:
    return Callback(action, **fields).encode()  # type: ignore[arg-type]


def decode(data: str | None) -> Callback:
    if not data or len(data.encode()) > MAX_BYTES:
        raise BadCallback("empty or oversized callback data")
    version, _, rest = data.partition(SEPARATOR)
    if version != VERSION:
        raise BadCallback(f"callback data of version {version!r}")
    action, *values = rest.split(SEPARATOR)
    names = FIELDS.get(action)
    if names is None or len(values) != len(names):
        raise BadCallback(f"unknown callback {data!r}")
    fields: dict[str, object] = {}
    for name, value in zip(names, values, strict=True):
        if not _SHAPES[name].match(value):
            raise BadCallback(f"bad {name} in callback {data!r}")
        fields[name] = _decode_field(name, value)
    return Callback(action, **fields)  # type: ignore[arg-type]


def _decode_field(name: str, value: str) -> object:
    if name == "day":
        try:
            day = date(int(value[:4]), int(value[4:6]), int(value[6:]))
        except ValueError:
            raise BadCallback(f"{value!r} is not a date") from None
        if not FIRST_DAY <= day <= LAST_DAY:  # the studio's calendar cannot hold it
            raise BadCallback(f"{value!r} is outside the calendar")
        return day
    if name == "minute":
        hours, minutes = int(value[:2]), int(value[2:])
        if hours > 23 or minutes > 59:
            raise BadCallback(f"{value!r} is not a time of day")
        return hours * 60 + minutes
    return int(value)
