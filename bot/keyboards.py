"""Inline keyboards. Every button's callback data comes from bot.callbacks."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from telebot.types import (
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    WebAppInfo,
)

from schedule import Booking, Settings, attendance
from schedule.i18n import N_
from schedule.timegrid import minute_of_day, to_local

from . import callbacks as cb
from .texts import day_label, label, nlabel, short_when

Button = InlineKeyboardButton


def _button(label: str, action: str, **fields: object) -> Button:
    return Button(label, callback_data=cb.encode(action, **fields))


def _rows(buttons: Sequence[Button], width: int) -> list[list[Button]]:
    return [list(buttons[i : i + width]) for i in range(0, len(buttons), width)]


def _markup(rows: Iterable[list[Button]]) -> InlineKeyboardMarkup:
    markup = InlineKeyboardMarkup()
    for row in rows:
        if row:
            markup.row(*row)
    return markup


def app_button(lang: str, web_app_url: str | None) -> list[Button]:
    if not web_app_url:
        return []
    return [Button(label(lang, "btn_open_app"), web_app=WebAppInfo(web_app_url))]


def menu(lang: str, web_app_url: str | None, is_admin: bool, today: date) -> InlineKeyboardMarkup:
    rows = [
        app_button(lang, web_app_url),
        [_button(label(lang, "btn_book"), cb.DAYS), _button(label(lang, "btn_my"), cb.MY)],
    ]
    if is_admin:
        rows.append([_button(label(lang, "btn_today"), cb.ADMIN_DAY, day=today)])
    return _markup(rows)


@dataclass(frozen=True)
class Chosen:
    """What /book books once the studio has several kinds or several trainers of a kind: the
    kind's id, the trainer's (0: any of the kind's), and where the days' back button goes (the
    step before them: cb.KIND_DAYS, the kind's trainers; cb.KINDS; cb.MENU)."""

    kind: int
    trainer: int
    back: str = cb.KINDS

    def button(self, lang: str, text_key: str, action: str, **fields: object) -> Button:
        return _button(
            label(lang, text_key), action, kind=self.kind, trainer=self.trainer, **fields
        )

    def data(self, action: str, day: date) -> Callable[[int], str]:
        """The callback data of `action` at a start of `day`, by its minute."""
        return lambda minute: cb.encode(
            action, kind=self.kind, trainer=self.trainer, day=day, minute=minute
        )


def days(lang: str, bookable: Sequence[date], chosen: Chosen | None = None) -> InlineKeyboardMarkup:
    """The bookable days (of the `chosen` kind with the chosen trainer, once there is a choice)."""
    if chosen is None:
        buttons = [_button(day_label(day, lang), cb.DAY, day=day) for day in bookable]
        back = [_button(label(lang, "btn_menu"), cb.MENU)]
    else:
        buttons = [
            _button(
                day_label(day, lang),
                cb.TRAINER_DAY,
                kind=chosen.kind,
                trainer=chosen.trainer,
                day=day,
            )
            for day in bookable
        ]
        if chosen.back == cb.KIND_DAYS:
            back = [_button(label(lang, "btn_back"), cb.KIND_DAYS, kind=chosen.kind)]
        elif chosen.back == cb.KINDS:
            back = [_button(label(lang, "btn_back"), cb.KINDS)]
        else:
            back = [_button(label(lang, "btn_menu"), cb.MENU)]
    return _markup([*_rows(buttons, 2), back])


def kinds(lang: str, choices: Sequence[tuple[int, str]]) -> InlineKeyboardMarkup:
    """/book's first step when there are several kinds: (kind id, its button's text)."""
    buttons = [_button(text, cb.KIND_DAYS, kind=kind_id) for kind_id, text in choices]
    return _markup([*_rows(buttons, 1), [_button(label(lang, "btn_menu"), cb.MENU)]])


def trainers(
    lang: str, kind: int, choices: Sequence[tuple[int, str]], back: str = cb.KINDS
) -> InlineKeyboardMarkup:
    """/book's step after the kind when several trainers give it: (trainer id, name) each, then
    any trainer; back to the kinds (`back` cb.KINDS) or the menu (cb.MENU)."""
    buttons = [
        _button(name[:64], cb.TRAINER_DAYS, kind=kind, trainer=trainer_id)
        for trainer_id, name in choices
    ]
    buttons.append(_button(label(lang, "trainer_any"), cb.TRAINER_DAYS, kind=kind, trainer=0))
    if back == cb.KINDS:
        last = _button(label(lang, "btn_back"), cb.KINDS)
    else:
        last = _button(label(lang, "btn_menu"), cb.MENU)
    return _markup([*_rows(buttons, 1), [last]])


def _start_buttons(
    lang: str,
    callback: Callable[[int], str],
    free_by_minute: Sequence[tuple[int, str, int]],
    full: Sequence[tuple[int, str, bool]] = (),
    wait: Callable[[int], str] | None = None,
) -> list[Button]:
    """One button per start, by time: each bookable one (minute, 'HH:MM', free places) with
    `callback(minute)`'s data, each full one the user may wait for (minute, 'HH:MM', whether
    they are in line already) with `wait(minute)`'s."""
    buttons = [
        (minute, label(lang, "start_button", time=start, free=free), callback)
        for minute, start, free in free_by_minute
    ]
    if wait is not None:
        for minute, start, waiting in full:
            key = N_("start_waiting_button") if waiting else N_("start_full_button")
            buttons.append((minute, label(lang, key, time=start), wait))
    return [
        Button(text, callback_data=data(minute))
        for minute, text, data in sorted(buttons, key=lambda b: (b[0], b[1]))
    ]


def starts(
    lang: str,
    day: date,
    free_by_minute: Sequence[tuple[int, str, int]],
    full: Sequence[tuple[int, str, bool]] = (),
    chosen: Chosen | None = None,
) -> InlineKeyboardMarkup:
    """One button per bookable start: (minute, 'HH:MM', free places), and one per full start
    the user may wait for: (minute, 'HH:MM', whether they are in line already); by time. Of
    the `chosen` kind and trainer: callbacks carrying them, back to their days."""
    if chosen is not None:
        buttons = _start_buttons(
            lang,
            chosen.data(cb.TRAINER_PICK, day),
            free_by_minute,
            full,
            chosen.data(cb.TRAINER_WAIT_ASK, day),
        )
        back = chosen.button(lang, "btn_back", cb.TRAINER_DAYS)
        return _markup([*_rows(buttons, 3), [back]])
    buttons = _start_buttons(
        lang,
        lambda minute: cb.encode(cb.PICK, day=day, minute=minute),
        free_by_minute,
        full,
        lambda minute: cb.encode(cb.WAIT_ASK, day=day, minute=minute),
    )
    return _markup([*_rows(buttons, 3), [_button(label(lang, "btn_back"), cb.DAYS)]])


def confirm_booking(
    lang: str, day: date, minute: int, chosen: Chosen | None = None
) -> InlineKeyboardMarkup:
    if chosen is not None:
        return _markup(
            [
                [chosen.button(lang, "btn_confirm", cb.TRAINER_BOOK, day=day, minute=minute)],
                [chosen.button(lang, "btn_back", cb.TRAINER_DAY, day=day)],
            ]
        )
    return _markup(
        [
            [_button(label(lang, "btn_confirm"), cb.BOOK, day=day, minute=minute)],
            [_button(label(lang, "btn_back"), cb.DAY, day=day)],
        ]
    )


def booked(lang: str, booking: Booking, settings: Settings, web_app_url: str | None):
    return booking_actions(
        lang, booking.id, booking.starts_at, settings, web_app_url, may_repeat=True
    )


def booking_actions(
    lang: str,
    booking_id: int,
    starts_at: datetime,
    settings: Settings,
    web_app_url: str | None,
    *,
    may_cancel: bool = True,
    may_repeat: bool = False,
) -> InlineKeyboardMarkup:
    """Under a message about one booking (booked, a reminder, booked from the waitlist):
    cancel or move it (while the client still may), repeat it weekly (just booked), the app,
    my trainings."""
    return _markup(
        [
            [_cancel_button(lang, booking_id, starts_at, settings)] if may_cancel else [],
            [_move_button(lang, booking_id, starts_at, settings)] if may_cancel else [],
            [_repeat_button(lang, booking_id, starts_at, settings)] if may_repeat else [],
            app_button(lang, web_app_url),
            [_button(label(lang, "btn_my"), cb.MY)],
        ]
    )


def _cancel_button(lang: str, booking_id: int, starts_at: datetime, settings: Settings) -> Button:
    when = short_when(starts_at, settings, lang)
    return _button(
        label(lang, "btn_cancel_booking", when=when), cb.CANCEL_ASK, booking_id=booking_id
    )


def _move_button(lang: str, booking_id: int, starts_at: datetime, settings: Settings) -> Button:
    when = short_when(starts_at, settings, lang)
    return _button(label(lang, "btn_move_booking", when=when), cb.MOVE_ASK, booking_id=booking_id)


def _repeat_button(lang: str, booking_id: int, starts_at: datetime, settings: Settings) -> Button:
    when = short_when(starts_at, settings, lang)
    return _button(
        label(lang, "btn_repeat_weekly", when=when), cb.REPEAT_ASK, booking_id=booking_id
    )


def _stop_series_button(lang: str, series_id: int, series: str) -> Button:
    return _button(
        label(lang, "btn_stop_series", series=series), cb.SERIES_STOP_ASK, series_id=series_id
    )


def _leave_button(lang: str, starts_at: datetime, settings: Settings) -> Button:
    day, minute = minute_of_day(starts_at, settings)
    when = short_when(starts_at, settings, lang)
    return _button(label(lang, "btn_leave_wait", when=when), cb.LEAVE, day=day, minute=minute)


def my_bookings(
    lang: str,
    bookings: Sequence[Booking],
    settings: Settings,
    web_app_url: str | None,
    waiting: Sequence[datetime] = (),
    repeatable: Sequence[Booking] = (),
    series: Sequence[tuple[int, str]] = (),
) -> InlineKeyboardMarkup:
    """Cancel and move buttons for `bookings`, repeat-weekly buttons for the `repeatable`
    ones, leave buttons for the starts the user is `waiting` for, a stop button per running
    `series` (its id and its label)."""
    return _markup(
        [
            *(
                [
                    _cancel_button(lang, b.id, b.starts_at, settings),
                    _move_button(lang, b.id, b.starts_at, settings),
                ]
                for b in bookings
            ),
            *([_repeat_button(lang, b.id, b.starts_at, settings)] for b in repeatable),
            *([_leave_button(lang, starts_at, settings)] for starts_at in waiting),
            *([_stop_series_button(lang, series_id, name)] for series_id, name in series),
            [_button(label(lang, "btn_book"), cb.DAYS), _button(label(lang, "btn_menu"), cb.MENU)],
            app_button(lang, web_app_url),
        ]
    )


def confirm_wait(
    lang: str, day: date, minute: int, chosen: Chosen | None = None
) -> InlineKeyboardMarkup:
    if chosen is not None:
        return _markup(
            [
                [chosen.button(lang, "btn_join_wait", cb.TRAINER_WAIT, day=day, minute=minute)],
                [chosen.button(lang, "btn_back", cb.TRAINER_DAY, day=day)],
            ]
        )
    return _markup(
        [
            [_button(label(lang, "btn_join_wait"), cb.WAIT, day=day, minute=minute)],
            [_button(label(lang, "btn_back"), cb.DAY, day=day)],
        ]
    )


def waiting(
    lang: str, starts_at: datetime, settings: Settings, web_app_url: str | None
) -> InlineKeyboardMarkup:
    return _markup(
        [
            [_leave_button(lang, starts_at, settings)],
            app_button(lang, web_app_url),
            [_button(label(lang, "btn_my"), cb.MY)],
        ]
    )


def repeat_weeks(lang: str, booking_id: int, choices: Sequence[int]) -> InlineKeyboardMarkup:
    """For how many weeks to repeat a booked training: each of `choices` (schedule.series'
    week_choices, the Mini App's list), or until stopped."""
    weeks = [
        _button(nlabel(lang, "btn_weeks", n), cb.REPEAT_PICK, booking_id=booking_id, weeks=n)
        for n in choices
    ]
    until = _button(
        label(lang, "btn_until_stopped"), cb.REPEAT_PICK, booking_id=booking_id, weeks=0
    )
    return _markup([*_rows(weeks, 4), [until], [_button(label(lang, "btn_back"), cb.MY)]])


def confirm_repeat(lang: str, booking_id: int, weeks: int) -> InlineKeyboardMarkup:
    return _markup(
        [
            [
                _button(
                    label(lang, "btn_repeat_confirm"), cb.REPEAT, booking_id=booking_id, weeks=weeks
                )
            ],
            [_button(label(lang, "btn_back"), cb.REPEAT_ASK, booking_id=booking_id)],
        ]
    )


def move_days(lang: str, booking_id: int, bookable: Sequence[date]) -> InlineKeyboardMarkup:
    """The days a booking may move to, then back to my trainings."""
    buttons = [
        _button(day_label(day, lang), cb.MOVE_DAY, booking_id=booking_id, day=day)
        for day in bookable
    ]
    return _markup([*_rows(buttons, 2), [_button(label(lang, "btn_back"), cb.MY)]])


def move_starts(
    lang: str, booking_id: int, day: date, free_by_minute: Sequence[tuple[int, str, int]]
) -> InlineKeyboardMarkup:
    """The starts of `day` the booking may move to: (minute, 'HH:MM', free places)."""
    buttons = _start_buttons(
        lang,
        lambda minute: cb.encode(cb.MOVE_PICK, booking_id=booking_id, day=day, minute=minute),
        free_by_minute,
    )
    back = _button(label(lang, "btn_back"), cb.MOVE_ASK, booking_id=booking_id)
    return _markup([*_rows(buttons, 3), [back]])


def confirm_move(lang: str, booking_id: int, day: date, minute: int) -> InlineKeyboardMarkup:
    return _markup(
        [
            [
                _button(
                    label(lang, "btn_move_confirm"),
                    cb.MOVE,
                    booking_id=booking_id,
                    day=day,
                    minute=minute,
                )
            ],
            [_button(label(lang, "btn_back"), cb.MOVE_DAY, booking_id=booking_id, day=day)],
        ]
    )


def confirm_stop_series(lang: str, series_id: int) -> InlineKeyboardMarkup:
    return _markup(
        [
            [_button(label(lang, "btn_yes_stop"), cb.SERIES_STOP, series_id=series_id)],
            [_button(label(lang, "btn_back"), cb.MY)],
        ]
    )


def confirm_cancel(lang: str, booking_id: int, *, may_cancel: bool = True) -> InlineKeyboardMarkup:
    """Yes (unless it is too late to cancel) or back to my trainings."""
    return _markup(
        [
            [_button(label(lang, "btn_yes_cancel"), cb.CANCEL, booking_id=booking_id)]
            if may_cancel
            else [],
            [_button(label(lang, "btn_back"), cb.MY)],
        ]
    )


def admin_day(
    lang: str,
    shown: date,
    horizon: Sequence[date],
    bookings: Sequence[Booking],
    settings: Settings,
    now: datetime | None = None,
) -> InlineKeyboardMarkup:
    """A cancel button per visitor; once a training has started (`now`), attended and
    no-show buttons instead (one tap each)."""
    rows = []
    for booking in bookings:
        time = f"{to_local(booking.starts_at, settings):%H:%M}"
        name = booking.user.name[:32]
        if now is not None and attendance.may_mark(booking, now):
            rows.append(
                [
                    _button(
                        label(lang, "admin_attend_button", time=time, name=name),
                        cb.ADMIN_ATTENDED,
                        booking_id=booking.id,
                    ),
                    _button(
                        label(lang, "admin_no_show_button"),
                        cb.ADMIN_NO_SHOW,
                        booking_id=booking.id,
                    ),
                ]
            )
        else:
            rows.append(
                [
                    _button(
                        label(lang, "admin_cancel_button", time=time, name=name),
                        cb.ADMIN_CANCEL_ASK,
                        booking_id=booking.id,
                    )
                ]
            )
    day_buttons = [
        _button(("• " if day == shown else "") + day_label(day, lang), cb.ADMIN_DAY, day=day)
        for day in horizon
    ]
    return _markup([*rows, *_rows(day_buttons, 3)])


def ask_reason(lang: str) -> ForceReply:
    """The trainer's reply box for a cancel's reason (typed, as in the Mini App)."""
    return ForceReply(input_field_placeholder=label(lang, "reason_placeholder")[:64])


def share_phone(lang: str) -> ReplyKeyboardMarkup:
    markup = ReplyKeyboardMarkup(resize_keyboard=True, one_time_keyboard=True)
    markup.add(KeyboardButton(label(lang, "btn_share_phone"), request_contact=True))
    return markup
