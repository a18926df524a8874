"""What the bot says, in Russian and English, chosen by the user's Telegram language_code.

Texts are HTML (the bot's parse mode). Placeholders are filled by `text()`, which escapes
every value: names, usernames, phones and reasons come from users.
"""

from __future__ import annotations

import html
from datetime import date, datetime

from schedule import Settings
from schedule.timegrid import to_local

RU, EN = "ru", "en"
MAX_MESSAGE = 4096

TEXTS: dict[str, dict[str, str]] = {
    "greeting": {
        EN: "Hello, {name}! Book a {minutes}-minute training here in the chat or in the app.",
        RU: "Здравствуйте, {name}! Записывайтесь на тренировку ({minutes} минут) здесь "
        "в чате или в приложении.",
    },
    "no_app": {
        EN: "The app is not available right now, but everything works here in the chat.",
        RU: "Приложение сейчас недоступно, но здесь в чате всё работает.",
    },
    "help": {
        EN: "/book — book a training\n/my — my trainings",
        RU: "/book — записаться на тренировку\n/my — мои тренировки",
    },
    "help_admin": {
        EN: "/today — the trainer's schedule",
        RU: "/today — расписание тренера",
    },
    "btn_open_app": {EN: "Open the app", RU: "Открыть приложение"},
    "btn_book": {EN: "Book a training", RU: "Записаться"},
    "btn_my": {EN: "My trainings", RU: "Мои тренировки"},
    "btn_today": {EN: "Trainer: schedule", RU: "Тренер: расписание"},
    "btn_back": {EN: "« Back", RU: "« Назад"},
    "btn_menu": {EN: "« Menu", RU: "« Меню"},
    "btn_confirm": {EN: "✅ Book it", RU: "✅ Записаться"},
    "btn_cancel_booking": {EN: "✖ Cancel {when}", RU: "✖ Отменить {when}"},
    "btn_yes_cancel": {EN: "Yes, cancel", RU: "Да, отменить"},
    "btn_share_phone": {EN: "Share my phone number", RU: "Поделиться номером"},
    "pick_day": {EN: "Choose a day:", RU: "Выберите день:"},
    "no_days": {
        EN: "No free trainings in the next {days} days.",
        RU: "В ближайшие {days} дн. свободных тренировок нет.",
    },
    "pick_start": {
        EN: "<b>{day}</b>: choose a start time (free places in brackets).",
        RU: "<b>{day}</b>: выберите время начала (в скобках — свободные места).",
    },
    "start_button": {EN: "{time} ({free})", RU: "{time} ({free})"},
    "confirm_booking": {
        EN: "Book a training on <b>{when}</b>?",
        RU: "Записаться на тренировку <b>{when}</b>?",
    },
    "booked": {EN: "You're booked: <b>{when}</b>.", RU: "Вы записаны: <b>{when}</b>."},
    "toast_booked": {EN: "Booked", RU: "Готово"},
    "my_header": {EN: "Your trainings:", RU: "Ваши тренировки:"},
    "my_empty": {EN: "You have no upcoming trainings.", RU: "Предстоящих тренировок нет."},
    "confirm_cancel": {
        EN: "Cancel your training on <b>{when}</b>?",
        RU: "Отменить тренировку <b>{when}</b>?",
    },
    "cancelled": {EN: "Cancelled: <b>{when}</b>.", RU: "Отменено: <b>{when}</b>."},
    "toast_cancelled": {EN: "Cancelled", RU: "Отменено"},
    "too_fast": {
        EN: "Too many taps. Try again in {n} s.",
        RU: "Слишком много нажатий. Повторите через {n} с.",
    },
    "stale": {
        EN: "This button is out of date. Here is a fresh one.",
        RU: "Эта кнопка устарела. Вот актуальная.",
    },
    "day_full": {
        EN: "No free starts left on this day.",
        RU: "На этот день свободного времени больше нет.",
    },
    "admin_only": {EN: "Only the trainer can do that.", RU: "Это может только тренер."},
    "error": {
        EN: "Something went wrong. Please try again.",
        RU: "Что-то пошло не так. Попробуйте ещё раз.",
    },
    "ask_phone": {
        EN: "Please share your phone number (the button below) so the trainer can reach you.",
        RU: "Поделитесь номером телефона (кнопка ниже), чтобы тренер мог связаться с вами.",
    },
    "phone_saved": {
        EN: "Thank you, your number is saved. Now /book a training.",
        RU: "Спасибо, номер сохранён. Теперь можно записаться: /book",
    },
    "phone_not_yours": {
        EN: "Please share your own number with the button.",
        RU: "Пожалуйста, поделитесь своим номером с помощью кнопки.",
    },
    "admin_day": {EN: "Trainings on <b>{day}</b>:", RU: "Тренировки <b>{day}</b>:"},
    "admin_day_empty": {EN: "No trainings on <b>{day}</b>.", RU: "<b>{day}</b> тренировок нет."},
    "admin_slot": {
        EN: "<b>{time}</b> · {count}/{capacity}",
        RU: "<b>{time}</b> · {count}/{capacity}",
    },
    "admin_cancel_button": {EN: "✖ {time} {name}", RU: "✖ {time} {name}"},
    "admin_pick_reason": {
        EN: "Cancel the training of <b>{name}</b> on <b>{when}</b>? "
        "Choose the reason; the client will see it.",
        RU: "Отменить тренировку клиента <b>{name}</b> {when}? "
        "Выберите причину — клиент её увидит.",
    },
    "notify_booked": {
        EN: "🆕 New booking: {who}\n<b>{when}</b> (via {source})",
        RU: "🆕 Новая запись: {who}\n<b>{when}</b> (через {source})",
    },
    "notify_cancelled_client": {
        EN: "❌ Cancelled by the client: {who}\n<b>{when}</b>",
        RU: "❌ Клиент отменил запись: {who}\n<b>{when}</b>",
    },
    "notify_cancelled_admin": {
        EN: "❌ Cancelled by the trainer: {who}\n<b>{when}</b>\nReason: {reason}",
        RU: "❌ Тренер отменил запись: {who}\n<b>{when}</b>\nПричина: {reason}",
    },
    "notify_moved": {
        EN: "🔁 Moved: {who}\n{old} → <b>{when}</b>",
        RU: "🔁 Перенос: {who}\n{old} → <b>{when}</b>",
    },
    "client_cancelled_by_trainer": {
        EN: "Your training on <b>{when}</b> was cancelled by the trainer.\nReason: {reason}",
        RU: "Тренер отменил вашу тренировку <b>{when}</b>.\nПричина: {reason}",
    },
    "client_booked_by_trainer": {
        EN: "The trainer has booked you for <b>{when}</b>.",
        RU: "Тренер записал вас на <b>{when}</b>.",
    },
    "client_promoted": {
        EN: "A place has freed up and you're booked from the waitlist: <b>{when}</b>.",
        RU: "Освободилось место, и вы записаны из листа ожидания: <b>{when}</b>.",
    },
    "cancel_until": {
        EN: "You can cancel until {deadline}.",
        RU: "Отменить можно до {deadline}.",
    },
    "reminder": {
        EN: "⏰ Reminder: your training is on <b>{when}</b>.",
        RU: "⏰ Напоминание: ваша тренировка <b>{when}</b>.",
    },
    "pick_start_waitlist": {
        EN: "⏳ — full: tap it to join the waitlist.",
        RU: "⏳ — мест нет: нажмите, чтобы встать в лист ожидания.",
    },
    "start_full_button": {EN: "⏳ {time}", RU: "⏳ {time}"},
    "start_waiting_button": {EN: "⏳ {time} (in line)", RU: "⏳ {time} (в очереди)"},
    "confirm_wait": {
        EN: "<b>{when}</b> is full. Join the waitlist? When a place frees up, the first in "
        "line is booked automatically and told here.",
        RU: "На <b>{when}</b> мест нет. Встать в лист ожидания? Когда место освободится, "
        "первый в очереди будет записан автоматически и получит сообщение здесь.",
    },
    "btn_join_wait": {EN: "⏳ Join the waitlist", RU: "⏳ Встать в очередь"},
    "waiting": {
        EN: "You're on the waitlist for <b>{when}</b>: number {position} in line. If a place "
        "frees up, you'll be booked automatically and told here.",
        RU: "Вы в листе ожидания на <b>{when}</b>: {position}-й в очереди. Если место "
        "освободится, вы будете записаны автоматически и получите сообщение здесь.",
    },
    "toast_waiting": {EN: "On the waitlist", RU: "Вы в очереди"},
    "btn_leave_wait": {EN: "✖ Leave the waitlist {when}", RU: "✖ Выйти из очереди {when}"},
    "left_wait": {
        EN: "You left the waitlist for <b>{when}</b>.",
        RU: "Вы вышли из листа ожидания на <b>{when}</b>.",
    },
    "toast_left": {EN: "Left the waitlist", RU: "Вы вышли из очереди"},
    "not_waiting": {
        EN: "You are not on this waitlist (any more).",
        RU: "Вас нет в этом листе ожидания.",
    },
    "my_waitlist_header": {EN: "Waitlist:", RU: "Лист ожидания:"},
    "my_waiting_line": {
        EN: "• {when} — number {position} in line",
        RU: "• {when} — {position}-й в очереди",
    },
    "no_reason": {EN: "not given", RU: "не указана"},
    "source_bot": {EN: "the bot", RU: "бота"},
    "source_miniapp": {EN: "the app", RU: "приложение"},
    "source_admin": {EN: "the trainer", RU: "тренера"},
    "source_waitlist": {EN: "the waitlist", RU: "лист ожидания"},
    # Passes and attendance (bot/passes.py, /my, /today).
    "pass_low": {
        EN: "One visit is left on your pass (valid until {until}). Ask the trainer for a new one.",
        RU: "На абонементе осталось одно занятие (действует до {until}). Новый — у тренера.",
    },
    "pass_expiring": {
        EN: "Your pass expires on {until} with {n} visit(s) left.",
        RU: "Ваш абонемент заканчивается {until}, осталось занятий: {n}.",
    },
    "my_pass_line": {
        EN: "🎫 Pass: {n} of {total} visits left, until {until}",
        RU: "🎫 Абонемент: осталось {n} из {total}, до {until}",
    },
    "my_no_pass": {EN: "🎫 No pass with visits left.", RU: "🎫 Нет абонемента с занятиями."},
    "ask_trainer": {EN: "✉️ {link}Message the trainer</a>", RU: "✉️ {link}Написать тренеру</a>"},
    "admin_attend_button": {EN: "✅ {time} {name}", RU: "✅ {time} {name}"},
    "admin_no_show_button": {EN: "🚫 no-show", RU: "🚫 не пришёл"},
    "toast_marked": {EN: "Marked", RU: "Отмечено"},
    "mark_attended": {EN: "✅", RU: "✅"},
    "mark_no_show": {EN: "🚫", RU: "🚫"},
    # Standing bookings (bot/series.py, /my).
    "source_series": {EN: "a standing booking", RU: "постоянную запись"},
    "series_label": {EN: "{weekdays} at {start}", RU: "по {weekdays} в {start}"},
    "series_booked": {
        EN: "🔁 Your standing booking ({series}): you're booked for <b>{when}</b>.",
        RU: "🔁 Постоянная запись ({series}): вы записаны на <b>{when}</b>.",
    },
    "series_waiting": {
        EN: "🔁 Your standing booking ({series}): <b>{when}</b> is full, so you're on its "
        "waitlist and will be booked if a place frees up.",
        RU: "🔁 Постоянная запись ({series}): на <b>{when}</b> мест нет — вы в листе "
        "ожидания и будете записаны, если место освободится.",
    },
    "series_skipped": {
        EN: "🔁 Your standing booking ({series}): <b>{day}</b> could not be booked. {reason}",
        RU: "🔁 Постоянная запись ({series}): на <b>{day}</b> записать не удалось. {reason}",
    },
    "series_stopped": {
        EN: "The trainer stopped your standing booking ({series}). Reason: {reason}",
        RU: "Тренер остановил вашу постоянную запись ({series}). Причина: {reason}",
    },
    "series_stopped_cancelled": {
        EN: "Cancelled with it: {dates}.",
        RU: "Вместе с ней отменены: {dates}.",
    },
    "my_series_line": {EN: "🔁 {series}, until {until}", RU: "🔁 {series}, до {until}"},
    "my_series_open": {EN: "🔁 {series}, until stopped", RU: "🔁 {series}, пока не остановите"},
    "btn_repeat_weekly": {EN: "🔁 Repeat {when} weekly", RU: "🔁 Повторять {when} каждую неделю"},
    "btn_stop_series": {EN: "⏹ Stop {series}", RU: "⏹ Остановить {series}"},
    "series_started": {
        EN: "🔁 Standing booking {series}: {booked} booked, {waiting} on the waitlist, "
        "{skipped} skipped. Later dates are booked as they open.",
        RU: "🔁 Постоянная запись {series}: записано {booked}, в листе ожидания {waiting}, "
        "пропущено {skipped}. Следующие даты — по мере открытия записи.",
    },
    "series_stopped_by_you": {
        EN: "Standing booking {series} stopped.",
        RU: "Постоянная запись {series} остановлена.",
    },
    "my_series_waiting": {
        EN: "  ⏳ {day} — on the waitlist",
        RU: "  ⏳ {day} — в листе ожидания",
    },
    "my_series_skipped": {EN: "  ✕ {day} — {reason}", RU: "  ✕ {day} — {reason}"},
    "repeat_pick_weeks": {
        EN: "🔁 Repeat {series} every week from <b>{day}</b>: for how long? Each date is "
        "booked as it opens, before anyone else can take it; a full one puts you on its "
        "waitlist.",
        RU: "🔁 Повторять {series} каждую неделю с <b>{day}</b>: как долго? Каждая дата "
        "бронируется, как только открывается запись, раньше других; если мест нет — вы "
        "в листе ожидания.",
    },
    "btn_weeks": {EN: "{n} weeks", RU: "{n} нед."},
    "btn_until_stopped": {EN: "Until I stop it", RU: "Пока не остановлю"},
    "confirm_stop_series": {
        EN: "Stop your standing booking {series}? No more dates are booked, and its trainings "
        "you can still cancel are cancelled.",
        RU: "Остановить постоянную запись {series}? Новые даты не бронируются, а её "
        "тренировки, которые ещё можно отменить, отменяются.",
    },
    "btn_yes_stop": {EN: "Yes, stop", RU: "Да, остановить"},
    "toast_series_started": {EN: "Repeating weekly", RU: "Повторяется каждую неделю"},
    "toast_series_stopped": {EN: "Stopped", RU: "Остановлено"},
}

# For "{weekdays} at {start}": every such weekday.
WEEKLY = {
    EN: ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays"),
    RU: (
        "понедельникам",
        "вторникам",
        "средам",
        "четвергам",
        "пятницам",
        "субботам",
        "воскресеньям",
    ),
}

REASONS: dict[str, tuple[str, ...]] = {
    EN: ("The trainer is ill", "The studio is closed", "The schedule has changed"),
    RU: ("Тренер заболел", "Студия закрыта", "Изменилось расписание"),
}

WEEKDAYS = {
    EN: ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    RU: ("Пн", "Вт", "Ср", "Чт", "Пт", "Сб", "Вс"),
}
MONTHS = {
    EN: ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    RU: (
        "января",
        "февраля",
        "марта",
        "апреля",
        "мая",
        "июня",
        "июля",
        "августа",
        "сентября",
        "октября",
        "ноября",
        "декабря",
    ),
}

COMMANDS = {
    EN: (("start", "Start"), ("book", "Book a training"), ("my", "My trainings")),
    RU: (("start", "Начало"), ("book", "Записаться"), ("my", "Мои тренировки")),
}
ADMIN_COMMANDS = {EN: (("today", "Trainer: schedule"),), RU: (("today", "Тренер: расписание"),)}


def language(language_code: str | None) -> str:
    return RU if (language_code or "").lower().startswith("ru") else EN


def text(lang: str, key: str, **values: object) -> str:
    """The text `key` in `lang` with every value HTML-escaped."""
    return TEXTS[key][lang].format(
        **{name: html.escape(str(value), quote=False) for name, value in values.items()}
    )


def fit(lines: list[str]) -> str:
    """Lines joined into one message, cut at a line end where Telegram's limit would refuse it."""
    message = "\n".join(lines)
    if len(message) <= MAX_MESSAGE:
        return message
    return message[: message.rfind("\n", 0, MAX_MESSAGE - 2)] + "\n…"


def label(lang: str, key: str, **values: object) -> str:
    """A plain-text string (button labels, toasts and alerts are not parsed as HTML)."""
    return TEXTS[key][lang].format(**values)


def day_label(day: date, lang: str) -> str:
    """'Wed 25 Nov' / 'Ср 25 ноября'."""
    return f"{WEEKDAYS[lang][day.weekday()]} {day.day} {MONTHS[lang][day.month - 1]}"


def when(starts_at: datetime, ends_at: datetime, settings: Settings, lang: str) -> str:
    """A training's local day and times: 'Wed 25 Nov 10:00–11:30'."""
    start, end = to_local(starts_at, settings), to_local(ends_at, settings)
    return f"{day_label(start.date(), lang)} {start:%H:%M}–{end:%H:%M}"


def short_when(starts_at: datetime, settings: Settings, lang: str) -> str:
    start = to_local(starts_at, settings)
    return f"{day_label(start.date(), lang)} {start:%H:%M}"
