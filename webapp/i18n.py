"""Russian and English wording of the Mini App, chosen by the user's Telegram language_code."""

from __future__ import annotations

from datetime import date

from flask import g

LANGUAGES = ("en", "ru")

TEXTS: dict[str, dict[str, str]] = {
    "title": {"en": "Trainings", "ru": "Тренировки"},
    "nav_book": {"en": "Book", "ru": "Запись"},
    "nav_my": {"en": "My trainings", "ru": "Мои тренировки"},
    "nav_admin": {"en": "Trainer", "ru": "Тренер"},
    "loading": {"en": "Loading…", "ru": "Загрузка…"},
    "pick_start": {"en": "Pick a start time", "ru": "Выберите время начала"},
    "free": {"en": "{n} free", "ru": "свободно {n}"},
    "full": {"en": "full", "ru": "мест нет"},
    "yours": {"en": "yours", "ru": "ваша"},
    "closed_day": {"en": "No trainings on this day.", "ru": "В этот день тренировок нет."},
    "confirm_book": {"en": "Book this training?", "ru": "Записаться на тренировку?"},
    "book": {"en": "Book", "ru": "Записаться"},
    "back": {"en": "Back", "ru": "Назад"},
    "booked": {"en": "Booked: {when}", "ru": "Вы записаны: {when}"},
    "no_bookings": {"en": "No upcoming trainings.", "ru": "Предстоящих тренировок нет."},
    "book_one": {"en": "Book a training", "ru": "Записаться на тренировку"},
    "cancel": {"en": "Cancel", "ru": "Отменить"},
    "keep": {"en": "Keep it", "ru": "Оставить"},
    "confirm_cancel": {"en": "Cancel this training?", "ru": "Отменить эту тренировку?"},
    "yes_cancel": {"en": "Yes, cancel", "ru": "Да, отменить"},
    "cancelled": {"en": "Cancelled: {when}", "ru": "Отменено: {when}"},
    "reschedule": {"en": "Move", "ru": "Перенести"},
    "moving": {
        "en": "Moving {when}: pick a new start",
        "ru": "Перенос {when}: выберите новое время",
    },
    "confirm_move": {"en": "Move the training here?", "ru": "Перенести тренировку сюда?"},
    "move": {"en": "Move", "ru": "Перенести"},
    "moved": {"en": "Moved to {when}", "ru": "Перенесено на {when}"},
    "calendar": {"en": "Add to calendar", "ru": "В календарь"},
    "deadline": {
        "en": "Changes close {hours} before the start.",
        "ru": "Изменить можно не позже чем за {hours} до начала.",
    },
    "hours": {"en": "{n} h", "ru": "{n} ч"},
    "minutes": {"en": "{n} min", "ru": "{n} мин"},
    "day_bookings": {"en": "Bookings on {day}", "ru": "Записи на {day}"},
    "nobody": {"en": "No bookings on this day.", "ru": "На этот день записей нет."},
    "network": {
        "en": "No connection. Check the network and try again.",
        "ru": "Нет соединения. Проверьте сеть и попробуйте ещё раз.",
    },
    "share_phone": {"en": "Share my phone number", "ru": "Поделиться номером телефона"},
    "phone_saved": {
        "en": "Thank you! You can book now.",
        "ru": "Спасибо! Теперь можно записаться.",
    },
    "training_of": {"en": "Training", "ru": "Тренировка"},
}

WEEKDAYS = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "ru": ("Пн", "Вт", "Ср", "Чт", "Пт", "Сб", "Вс"),
}
MONTHS = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "ru": ("янв", "фев", "мар", "апр", "мая", "июн", "июл", "авг", "сен", "окт", "ноя", "дек"),
}


def language(code: str | None) -> str:
    """'ru' for Russian, else 'en' (as schedule's error messages decide)."""
    return "ru" if (code or "").lower().startswith("ru") else "en"


def current_language() -> str:
    return g.get("lang", "en")


def t(key: str, **values: object) -> str:
    text = TEXTS[key][current_language()]
    return text.format(**values) if values else text


def weekday(day: date) -> str:
    return WEEKDAYS[current_language()][day.weekday()]


def day_label(day: date) -> str:
    """'Wed 25 Nov' / 'Ср 25 ноя'."""
    lang = current_language()
    return f"{WEEKDAYS[lang][day.weekday()]} {day.day} {MONTHS[lang][day.month - 1]}"


def duration(minutes: int) -> str:
    if minutes % 60 == 0:
        return t("hours", n=minutes // 60)
    return t("minutes", n=minutes)
