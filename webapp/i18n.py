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
    "yours_open": {"en": "yours · tap to change", "ru": "ваша · изменить"},
    # Why a start cannot be booked, in a cell's line (bookings.reason; the codes are
    # schedule.availability.REFUSALS).
    "reason_too_soon": {"en": "too soon", "ru": "слишком скоро"},
    "reason_too_far": {"en": "not open yet", "ru": "запись позже"},
    "reason_closed": {"en": "closed", "ru": "закрыто"},
    "reason_after_hours": {"en": "ends after {time}", "ru": "позже {time}"},
    "reason_overlapping": {"en": "overlaps your {time}", "ru": "у вас {time}"},
    "reason_limit_reached": {"en": "limit", "ru": "лимит"},
    "reason_full": {"en": "full", "ru": "мест нет"},
    "reason_other": {"en": "unavailable", "ru": "недоступно"},
    "closed_day": {"en": "No trainings on this day.", "ru": "В этот день тренировок нет."},
    "confirm_book": {"en": "Book this training?", "ru": "Записаться на тренировку?"},
    "book": {"en": "Book", "ru": "Записаться"},
    "back": {"en": "Back", "ru": "Назад"},
    "booked": {"en": "Booked: {when}", "ru": "Вы записаны: {when}"},
    "no_bookings": {"en": "No upcoming trainings.", "ru": "Предстоящих тренировок нет."},
    "no_bookings_waiting": {
        "en": "No booked trainings yet: you are on the waitlist below.",
        "ru": "Записей пока нет: вы в листе ожидания ниже.",
    },
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
    "rate_limited": {
        "en": "Too many requests. Try again in {n} s.",
        "ru": "Слишком много запросов. Повторите через {n} с.",
    },
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

# The trainer's tab (webapp/admin.py, webapp/admin_api.py).
ADMIN_TEXTS: dict[str, dict[str, str]] = {
    "admin_day": {"en": "Day", "ru": "День"},
    "admin_week": {"en": "Week", "ru": "Неделя"},
    "admin_hours": {"en": "Hours", "ru": "Часы"},
    "admin_clients": {"en": "Clients", "ru": "Клиенты"},
    "previous_week": {"en": "Previous week", "ru": "Предыдущая неделя"},
    "next_week": {"en": "Next week", "ru": "Следующая неделя"},
    "today": {"en": "today", "ru": "сегодня"},
    "people": {"en": "{n} booked", "ru": "записано: {n}"},
    "closed": {"en": "closed", "ru": "закрыто"},
    "closed_all_day": {"en": "Closed all day", "ru": "Закрыто весь день"},
    "all_day": {"en": "all day", "ru": "весь день"},
    "closed_range": {"en": "Closed {start}–{end}", "ru": "Закрыто {start}–{end}"},
    "book_client": {"en": "Book a client", "ru": "Записать клиента"},
    "close_time": {"en": "Close…", "ru": "Закрыть…"},
    "booked_by_trainer": {"en": "booked by you", "ru": "записали вы"},
    "cancel_for": {"en": "Cancel {when}?", "ru": "Отменить {when}?"},
    "reason_placeholder": {
        "en": "Reason, e.g. the trainer is ill",
        "ru": "Причина, например: тренер заболел",
    },
    "reason_required": {
        "en": "Write the reason: the client will read it.",
        "ru": "Напишите причину — клиент её прочитает.",
    },
    "client_told": {
        "en": "The client gets a message from the bot with the reason.",
        "ru": "Клиент получит сообщение бота с причиной.",
    },
    "cancel_notify": {"en": "Cancel and notify", "ru": "Отменить и сообщить"},
    "admin_cancelled": {
        "en": "Cancelled {name}, {when}. The client was told.",
        "ru": "Отменено: {name}, {when}. Клиенту сообщили.",
    },
    "admin_booked": {"en": "Booked {name}: {when}", "ru": "Записан(а) {name}: {when}"},
    "trainings_total": {"en": "trainings a day", "ru": "тренировок за день"},
    "closed_week": {"en": "No opening hours this week.", "ru": "На этой неделе студия закрыта."},
    "opening_hours": {"en": "Opening hours", "ru": "Часы работы"},
    "day_off": {"en": "day off", "ru": "выходной"},
    "hours_hint": {
        "en": "+ adds an interval (a break splits the day in two); a day without any is a day off.",
        "ru": "+ добавляет интервал (перерыв делит день на два); день без интервалов — выходной.",
    },
    "add_interval": {"en": "Add an interval", "ru": "Добавить интервал"},
    "remove_interval": {"en": "Remove the interval", "ru": "Убрать интервал"},
    "save_hours": {"en": "Save hours", "ru": "Сохранить часы"},
    "hours_invalid": {
        "en": "{day}: each interval needs both times, in order, without overlaps.",
        "ru": "{day}: у каждого интервала нужны оба времени, по порядку и без наложений.",
    },
    "hours_off_grid": {
        "en": "Opening and closing times must be on the {n}-minute grid.",
        "ru": "Время открытия и закрытия должно быть кратно {n} минутам.",
    },
    "hours_all_closed": {
        "en": "Keep at least one day open; close dates with closures.",
        "ru": "Оставьте хотя бы один рабочий день; отдельные даты закрывайте закрытиями.",
    },
    "export_too_long": {
        "en": "Export at most {n} days at once.",
        "ru": "За раз можно выгрузить не больше {n} дней.",
    },
    "hours_saved": {"en": "Opening hours saved.", "ru": "Часы работы сохранены."},
    "outside_hours": {
        "en": "Bookings outside the new hours: {n}. They stay until you cancel them.",
        "ru": "Записей вне новых часов: {n}. Они останутся, пока вы их не отмените.",
    },
    "closures": {"en": "Closures", "ru": "Закрытия"},
    "no_closures": {"en": "No closures ahead.", "ru": "Закрытий не запланировано."},
    "reopen": {"en": "Reopen", "ru": "Открыть"},
    "reopened": {"en": "Reopened.", "ru": "Снова открыто."},
    "add_closure": {"en": "Close a day or hours", "ru": "Закрыть день или часы"},
    "date": {"en": "Date", "ru": "Дата"},
    "time": {"en": "Time", "ru": "Время"},
    "from": {"en": "from", "ru": "с"},
    "to": {"en": "to", "ru": "по"},
    "whole_day_hint": {
        "en": "Leave the time empty to close the whole day.",
        "ru": "Без времени закрывается весь день.",
    },
    "reason": {"en": "Reason", "ru": "Причина"},
    "closure_reason_placeholder": {"en": "e.g. holiday", "ru": "например, праздник"},
    "close_action": {"en": "Close", "ru": "Закрыть"},
    "closure_range": {
        "en": "Give both times, the start before the end, or none for the whole day.",
        "ru": "Укажите оба времени (начало раньше конца) или ни одного — на весь день.",
    },
    "closed_notice": {"en": "Closed: {when}.", "ru": "Закрыто: {when}."},
    "closed_cancelled": {
        "en": "Bookings cancelled: {n}; the clients were told.",
        "ru": "Отменено записей: {n}; клиентам сообщили.",
    },
    "closure_not_found": {"en": "Closure not found.", "ru": "Закрытие не найдено."},
    "conflict_title": {"en": "Bookings at this time: {n}", "ru": "Записей на это время: {n}"},
    "conflict_hint": {
        "en": "Closing cancels them, and each client gets the reason from the bot.",
        "ru": "Закрытие отменит их, и каждый клиент получит причину от бота.",
    },
    "conflict_confirm": {"en": "Close and cancel {n}", "ru": "Закрыть и отменить {n}"},
    "pick_client_for": {"en": "Pick a client for {day}", "ru": "Выберите клиента на {day}"},
    "search_clients": {"en": "Name or @username", "ru": "Имя или @username"},
    "book_for": {"en": "Book", "ru": "Записать"},
    "client_counts": {
        "en": "upcoming {upcoming} · past {past}",
        "ru": "впереди {upcoming} · прошло {past}",
    },
    "last_visit": {"en": "last {day}", "ru": "был(а) {day}"},
    "no_clients": {"en": "No clients yet.", "ru": "Клиентов пока нет."},
    "no_clients_found": {"en": "Nobody found.", "ru": "Никого не нашлось."},
    "client_not_found": {"en": "Client not found.", "ru": "Клиент не найден."},
    "export": {"en": "Export bookings", "ru": "Выгрузка записей"},
    "period": {"en": "Dates", "ru": "Даты"},
    "download_csv": {"en": "Download CSV", "ru": "Скачать CSV"},
    "export_hint": {
        "en": "Opens in Excel, Numbers or Google Sheets; times are the studio's.",
        "ru": "Открывается в Excel, Numbers и Google Таблицах; время — студии.",
    },
    "export_expired": {
        "en": "This link has expired: open the export again.",
        "ru": "Ссылка устарела: откройте выгрузку ещё раз.",
    },
    "booking_for": {"en": "Booking for {name}", "ru": "Запись для {name}"},
    "client_there": {"en": "booked", "ru": "записан(а)"},
    "confirm_book_for": {"en": "Book {name}?", "ru": "Записать {name}?"},
}
TEXTS.update(ADMIN_TEXTS)

# What the Mini App says when a request cannot be done (webapp/responses.py, app.js).
ERROR_TEXTS: dict[str, dict[str, str]] = {
    "request_failed": {
        "en": "Something went wrong on our side. Try again in a moment.",
        "ru": "Что-то пошло не так. Попробуйте ещё раз чуть позже.",
    },
    "bad_input": {
        "en": "That date or time is not one the app offers. Pick one from the list.",
        "ru": "Такой даты или времени в приложении нет. Выберите из списка.",
    },
    "stale_booking": {
        "en": "This booking is no longer active: the trainer may have cancelled it.",
        "ru": "Этой записи больше нет: возможно, её отменил тренер.",
    },
    "error_401": {
        "en": "Open the app from the bot in Telegram to sign in again.",
        "ru": "Откройте приложение из бота в Telegram, чтобы войти снова.",
    },
    "error_403": {"en": "This is for the trainer only.", "ru": "Это доступно только тренеру."},
    "error_404": {
        "en": "Not found: it may have been removed meanwhile.",
        "ru": "Не найдено: возможно, это уже удалили.",
    },
    "error_405": {"en": "That cannot be done here.", "ru": "Здесь так нельзя."},
    "error_other": {
        "en": "Something went wrong on our side. Try again in a moment.",
        "ru": "Что-то пошло не так. Попробуйте ещё раз чуть позже.",
    },
    "admin_cancelled_quiet": {
        "en": "Cancelled {name}, {when}. No bot is set up: tell the client yourself.",
        "ru": "Отменено: {name}, {when}. Бот не настроен — сообщите клиенту сами.",
    },
    "client_not_told": {
        "en": "No bot is set up here, so nobody is told: tell the client yourself.",
        "ru": "Бот здесь не настроен, поэтому никто не получит сообщение — сообщите сами.",
    },
    "closed_cancelled_quiet": {
        "en": "Bookings cancelled: {n}. No bot is set up: tell the clients yourself.",
        "ru": "Отменено записей: {n}. Бот не настроен — сообщите клиентам сами.",
    },
    "places_left": {"en": "{n} places left", "ru": "свободно мест: {n}"},
    "start_full": {"en": "full", "ru": "мест нет"},
    "waiting_line": {"en": "Waiting: {names}", "ru": "Ждут: {names}"},
}
TEXTS.update(ERROR_TEXTS)

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


# The waitlist (webapp/waitlist.py; the grid, the confirmation sheet and my trainings).
WAITLIST_TEXTS: dict[str, dict[str, str]] = {
    "waitlist_join_short": {"en": "full · wait", "ru": "мест нет · ждать"},
    "waitlist_join_start": {
        "en": "{start} is full: join its waitlist",
        "ru": "На {start} мест нет: встать в лист ожидания",
    },
    "waitlist_place": {"en": "#{n} in line", "ru": "{n}-й в очереди"},
    "waitlist_confirm": {
        "en": "Join the waitlist for this training?",
        "ru": "Встать в лист ожидания на эту тренировку?",
    },
    "waitlist_how": {
        "en": "When a place frees up you are booked automatically, and told so.",
        "ru": "Когда место освободится, вы будете записаны автоматически и получите сообщение.",
    },
    "waitlist_join": {"en": "Join the waitlist", "ru": "Встать в очередь"},
    "waiting_now": {
        "en": "On the waitlist for {when}: #{n} in line",
        "ru": "Вы в листе ожидания на {when}: {n}-й в очереди",
    },
    "waitlist_title": {"en": "Waitlist", "ru": "Лист ожидания"},
    "waitlist_leave": {"en": "Leave the waitlist", "ru": "Выйти из очереди"},
    "left_waitlist": {
        "en": "You left the waitlist for {when}",
        "ru": "Вы вышли из листа ожидания на {when}",
    },
}
TEXTS.update(WAITLIST_TEXTS)

# Passes and attendance (webapp/passes.py, the client card, My trainings, the Day view).
PASS_TEXTS: dict[str, dict[str, str]] = {
    "reason_no_pass": {"en": "no pass", "ru": "нет абонемента"},
    "reason_no_show_limit": {"en": "paused", "ru": "приостановлено"},
    "pass_not_found": {"en": "Pass not found.", "ru": "Абонемент не найден."},
    "ask_trainer": {"en": "Message the trainer", "ru": "Написать тренеру"},
    "my_passes": {"en": "My passes", "ru": "Мои абонементы"},
    "pass_left": {
        "en": "{n} of {total} visits left · until {until}",
        "ru": "осталось {n} из {total} · до {until}",
    },
    "pass_expired": {"en": "used up or expired · {until}", "ru": "закончился · {until}"},
    "no_passes": {"en": "No pass yet.", "ru": "Абонемента пока нет."},
    "unpaid": {"en": "unpaid", "ru": "не оплачено"},
    "paid_by_pass": {"en": "by pass", "ru": "по абонементу"},
    "client_card": {"en": "Client card", "ru": "Карточка клиента"},
    "card": {"en": "Card", "ru": "Карточка"},
    "stats_line": {
        "en": "Attended {attended} · no-show {no_show} · cancelled {cancelled}",
        "ru": "Был {attended} · не пришёл {no_show} · отменил {cancelled}",
    },
    "unpaid_line": {"en": "Unpaid bookings: {n}", "ru": "Неоплаченных записей: {n}"},
    "last_visit_line": {"en": "Last visit: {day}", "ru": "Последний визит: {day}"},
    "blocked_line": {
        "en": "Booking paused: too many no-shows.",
        "ru": "Запись приостановлена: много пропусков.",
    },
    "unblock": {"en": "Allow booking again", "ru": "Разрешить запись"},
    "record_pass": {"en": "Record a pass", "ru": "Оформить абонемент"},
    "visits": {"en": "Visits", "ru": "Занятий"},
    "valid_days": {"en": "Valid, days", "ru": "Действует, дней"},
    "starts_on": {"en": "From", "ru": "С"},
    "price": {"en": "Price", "ru": "Цена"},
    "note": {"en": "Note", "ru": "Заметка"},
    "save": {"en": "Save", "ru": "Сохранить"},
    "adjust_pass": {"en": "Correct", "ru": "Исправить"},
    "visits_delta": {"en": "Visits ±", "ru": "Занятий ±"},
    "extend_days": {"en": "Extend, days", "ru": "Продлить, дней"},
    "reason": {"en": "Reason", "ru": "Причина"},
    "history": {"en": "History", "ru": "История"},
    "change_created": {"en": "recorded", "ru": "оформлен"},
    "change_adjusted": {"en": "corrected", "ru": "исправлен"},
    "attended": {"en": "came", "ru": "пришёл"},
    "no_show": {"en": "no-show", "ru": "не пришёл"},
    "pass_recorded": {"en": "Pass recorded.", "ru": "Абонемент оформлен."},
    "pass_adjusted": {"en": "Pass corrected.", "ru": "Абонемент исправлен."},
    "unblocked": {"en": "Booking allowed again.", "ru": "Запись снова разрешена."},
    # The trainer's client card (webapp/client_card.py, admin/client.html, admin/_pass.html).
    "visits_title": {"en": "Visits", "ru": "Посещения"},
    "passes_title": {"en": "Passes", "ru": "Абонементы"},
    "stat_attended": {"en": "came", "ru": "был(а)"},
    "stat_no_show": {"en": "no-show", "ru": "не пришёл"},
    "stat_cancelled": {"en": "cancelled", "ru": "отменено"},
    "stat_unpaid": {"en": "unpaid", "ru": "без оплаты"},
    "no_visits_yet": {
        "en": "Has not come to a training yet.",
        "ru": "Ещё не был(а) на тренировке.",
    },
    "pass_remaining": {"en": "{n} of {total} left", "ru": "осталось {n} из {total}"},
    "pass_used": {"en": "used {n}", "ru": "использовано {n}"},
    "pass_spent": {"en": "used up or expired", "ru": "закончился"},
    "delta_visits": {"en": "{n} visits", "ru": "{n} зан."},
    "delta_days": {"en": "{n} days", "ru": "{n} дн."},
    "optional": {"en": "optional", "ru": "необязательно"},
    "adjust_reason_placeholder": {"en": "e.g. paid for 2 more", "ru": "например, доплатил за 2"},
    "form_whole": {"en": "{field}: type a whole number.", "ru": "{field}: введите целое число."},
    "form_price": {
        "en": "Price: type an amount like 1500 or 1500.50.",
        "ru": "Цена: введите сумму, например 1500 или 1500,50.",
    },
    "form_date": {"en": "Pick the start date.", "ru": "Выберите дату начала."},
}
TEXTS.update(PASS_TEXTS)

# Standing bookings (webapp/series.py, templates bookings/_series*.html, admin/_visitor.html).
SERIES_TEXTS: dict[str, dict[str, str]] = {
    "series_label": {"en": "{weekdays} at {start}", "ru": "по {weekdays} в {start}"},
    "series_until": {"en": "until {day}", "ru": "до {day}"},
    "series_open_ended": {"en": "until you stop it", "ru": "пока не остановите"},
    "series_title": {"en": "Every week", "ru": "Каждую неделю"},
    "series_repeat": {"en": "Repeat weekly", "ru": "Повторять еженедельно"},
    "series_confirm": {
        "en": "Book this training every week:",
        "ru": "Записываться на эту тренировку каждую неделю:",
    },
    "series_weeks": {"en": "For", "ru": "На"},
    "series_weeks_n": {"en": "{n} weeks", "ru": "{n} нед."},
    "series_until_stopped": {"en": "until I stop it", "ru": "пока не остановлю"},
    "series_how": {
        "en": "Dates inside the booking window are booked now, later ones as soon as they "
        "open, before anyone else. A full date puts you on its waitlist.",
        "ru": "Даты в пределах окна записи бронируются сразу, следующие — как только "
        "откроется запись, раньше остальных. Если мест нет, вы встанете в лист ожидания.",
    },
    "series_start": {"en": "Repeat weekly", "ru": "Повторять"},
    "series_started": {
        "en": "Every week: {booked} booked, {waiting} waiting, {skipped} skipped.",
        "ru": "Каждую неделю: записано {booked}, в ожидании {waiting}, пропущено {skipped}.",
    },
    "series_waiting_line": {"en": "waitlist", "ru": "лист ожидания"},
    "series_skipped_line": {"en": "skipped", "ru": "пропущено"},
    "series_stop": {"en": "Stop repeating", "ru": "Остановить"},
    "series_stop_confirm": {
        "en": "Stop repeating? Bookings you may still cancel are cancelled.",
        "ru": "Остановить повтор? Записи, которые ещё можно отменить, будут отменены.",
    },
    "series_keep": {"en": "Keep", "ru": "Оставить"},
    "series_stopped": {"en": "Stopped: {series}.", "ru": "Остановлено: {series}."},
    "series_mark": {"en": "every week", "ru": "каждую неделю"},
    "series_admin_stop": {"en": "Stop series", "ru": "Остановить серию"},
    "series_admin_stop_for": {
        "en": "Stop {name}'s weekly booking ({series})? Its bookings to come are cancelled.",
        "ru": "Остановить постоянную запись {name} ({series})? Будущие записи отменятся.",
    },
    "series_admin_stopped": {
        "en": "Stopped {name}'s weekly booking; they are told why.",
        "ru": "Постоянная запись {name} остановлена, клиенту сообщена причина.",
    },
}
WEEKLY = {
    "en": ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays"),
    "ru": (
        "понедельникам",
        "вторникам",
        "средам",
        "четвергам",
        "пятницам",
        "субботам",
        "воскресеньям",
    ),
}
TEXTS.update(SERIES_TEXTS)
