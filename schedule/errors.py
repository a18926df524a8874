"""Domain errors: a stable code for programs and a readable message for people."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "invalid": {
        "en": "The request is not valid.",
        "ru": "Некорректный запрос.",
    },
    "full": {
        "en": "No places left at this time.",
        "ru": "На это время мест нет.",
    },
    "overlapping": {
        "en": "You already have a training at this time.",
        "ru": "У вас уже есть тренировка в это время.",
    },
    "closed": {
        "en": "The studio is closed at this time.",
        "ru": "В это время студия закрыта.",
    },
    "after_hours": {
        "en": "The training would run past the opening hours.",
        "ru": "Тренировка выходит за часы работы студии.",
    },
    "too_soon": {
        "en": "This start is too soon or already past.",
        "ru": "Это время уже прошло или слишком близко.",
    },
    "too_far": {
        "en": "This date is too far ahead to book yet.",
        "ru": "На эту дату запись ещё не открыта.",
    },
    "deadline_passed": {
        "en": "It is too late to change this booking.",
        "ru": "Изменить эту запись уже поздно.",
    },
    "not_found": {
        "en": "Booking not found.",
        "ru": "Запись не найдена.",
    },
    "not_active": {
        "en": "This booking is already cancelled.",
        "ru": "Эта запись уже отменена.",
    },
    "not_full": {
        "en": "There is a free place: book it instead of waiting.",
        "ru": "Есть свободное место — запишитесь вместо ожидания.",
    },
    "has_bookings": {
        "en": "There are bookings at this time.",
        "ru": "На это время есть записи.",
    },
    "phone_required": {
        "en": "Please share your phone number first.",
        "ru": "Сначала поделитесь номером телефона.",
    },
    "limit_reached": {
        "en": "You have reached a booking limit.",
        "ru": "Достигнут лимит записей.",
    },
    "limit_per_day": {
        "en": "Limit reached: at most {n} booking(s) on one day.",
        "ru": "Лимит записей на один день: {n}.",
    },
    "limit_active": {
        "en": "Limit reached: at most {n} upcoming booking(s); cancel one to book another.",
        "ru": "Лимит предстоящих записей: {n}; отмените одну, чтобы записаться на другую.",
    },
    "limit_waitlist": {
        "en": "Limit reached: at most {n} waitlist(s) at once; leave one to join another.",
        "ru": "Лимит листов ожидания: {n}; выйдите из одного, чтобы встать в другой.",
    },
    "no_pass": {
        "en": "You have no pass with a visit left for this date; ask the trainer for one.",
        "ru": "Нет абонемента с оставшимися занятиями на эту дату — оформите его у тренера.",
    },
    "no_show_limit": {
        "en": "Booking is paused after missed trainings; ask the trainer to lift it.",
        "ru": "Запись приостановлена из-за пропущенных тренировок — обратитесь к тренеру.",
    },
    "not_started": {
        "en": "This training has not started yet.",
        "ru": "Эта тренировка ещё не началась.",
    },
    "pass_not_found": {
        "en": "Pass not found.",
        "ru": "Абонемент не найден.",
    },
    "series_not_found": {
        "en": "Standing booking not found.",
        "ru": "Постоянная запись не найдена.",
    },
    "series_exists": {
        "en": "You already have a standing booking at this weekday and time.",
        "ru": "У вас уже есть постоянная запись на этот день недели и время.",
    },
    "past_closure": {
        "en": "That date has passed: close today or a later date.",
        "ru": "Эта дата уже прошла: закрыть можно сегодня или позже.",
    },
    "closure_reason_required": {
        "en": "Write the reason: the clients whose bookings it cancels will read it.",
        "ru": "Напишите причину — её прочитают клиенты, чьи записи отменятся.",
    },
}

# HTTP status an adapter should answer with, by error code.
HTTP_STATUS = {
    "invalid": 400,
    "past_closure": 400,
    "closure_reason_required": 400,
    "not_found": 404,
    "pass_not_found": 404,
    "series_not_found": 404,
}


def message_for(code: str, lang: str | None = "en") -> str:
    texts = MESSAGES.get(code, MESSAGES["invalid"])
    return texts["ru" if (lang or "").lower().startswith("ru") else "en"]


class ScheduleError(Exception):
    """A refused request. `code` is stable; `detail` (English) is optional extra context."""

    def __init__(self, code: str, detail: str | None = None) -> None:
        self.code = code
        self.detail = detail
        super().__init__(detail or message_for(code))

    def message(self, lang: str | None = "en") -> str:
        if self.detail and not (lang or "").lower().startswith("ru"):
            return self.detail
        return message_for(self.code, lang)

    @property
    def http_status(self) -> int:
        return HTTP_STATUS.get(self.code, 409)


class InvalidInput(ScheduleError):
    """Malformed input (a 400): an unparseable date, a time off the grid. `detail_ru`, when
    given, is the same detail for a Russian reader (else they read the generic message)."""

    def __init__(self, detail: str, detail_ru: str | None = None) -> None:
        super().__init__("invalid", detail)
        self.detail_ru = detail_ru

    def message(self, lang: str | None = "en") -> str:
        if self.detail_ru and (lang or "").lower().startswith("ru"):
            return self.detail_ru
        return super().message(lang)
