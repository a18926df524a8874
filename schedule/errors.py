"""Domain errors: a stable code for programs and a readable message for people."""

from __future__ import annotations

from .i18n import DEFAULT, N_, Nn_, language, translate, translate_plural

# Each code's message in the catalogs (schedule.i18n), looked up as f"error_{code}".
MESSAGES = {
    "invalid": N_("error_invalid"),
    "full": N_("error_full"),
    "overlapping": N_("error_overlapping"),
    "closed": N_("error_closed"),
    "after_hours": N_("error_after_hours"),
    "too_soon": N_("error_too_soon"),
    "too_far": N_("error_too_far"),
    "deadline_passed": N_("error_deadline_passed"),
    "not_found": N_("error_not_found"),
    "not_active": N_("error_not_active"),
    "not_full": N_("error_not_full"),
    "has_bookings": N_("error_has_bookings"),
    "phone_required": N_("error_phone_required"),
    "limit_reached": N_("error_limit_reached"),
    "no_pass": N_("error_no_pass"),
    "no_show_limit": N_("error_no_show_limit"),
    "not_started": N_("error_not_started"),
    "pass_not_found": N_("error_pass_not_found"),
    "series_not_found": N_("error_series_not_found"),
    "series_exists": N_("error_series_exists"),
    "past_closure": N_("error_past_closure"),
    "closure_reason_required": N_("error_closure_reason_required"),
    "week_limit": N_("error_week_limit"),
    "product_not_found": N_("error_product_not_found"),
    "payment_not_found": N_("error_payment_not_found"),
    "payments_off": N_("error_payments_off"),
    "already_refunded": N_("error_already_refunded"),
    "not_forfeited": N_("error_not_forfeited"),
    "forbidden": N_("error_forbidden"),
    "trainer_busy": N_("error_trainer_busy"),
}

# A fair-use limit's message with its number, by limit code (schedule.limits): plural entries,
# "at most 1 booking" / "at most 2 bookings" (schedule.i18n.translate_plural).
LIMITS = {
    "per_day": Nn_("error_limit_per_day"),
    "active": Nn_("error_limit_active"),
    "waitlist": Nn_("error_limit_waitlist"),
}

# HTTP status an adapter should answer with, by error code.
HTTP_STATUS = {
    "invalid": 400,
    "past_closure": 400,
    "closure_reason_required": 400,
    "not_found": 404,
    "pass_not_found": 404,
    "series_not_found": 404,
    "product_not_found": 404,
    "payment_not_found": 404,
    "forbidden": 403,
}


def message_for(code: str, lang: str | None = DEFAULT) -> str:
    return translate(language(lang), MESSAGES.get(code, MESSAGES["invalid"]))


class ScheduleError(Exception):
    """A refused request. `code` is stable (programs branch on it); its words come from the
    catalogs: `message_for(code)`, or, when the refusal says more, the catalog entry `detail`
    (a symbolic id such as "input_date", marked with N_ where it is raised) filled with `values`;
    with `count` the entry is a plural one (Nn_, schedule.i18n.translate_plural)."""

    def __init__(
        self, code: str, detail: str | None = None, *, count: int | None = None, **values: object
    ) -> None:
        self.code = code
        self.detail = detail
        self.count = count
        self.values = values
        # Read once here, so that an id no catalog has fails where it is raised.
        super().__init__(self.message(DEFAULT))

    def message(self, lang: str | None = DEFAULT) -> str:
        """The refusal in `lang`'s words (a language without a catalog reads English)."""
        if self.detail is None:
            return message_for(self.code, lang)
        if self.count is not None:
            return translate_plural(language(lang), self.detail, self.count, **self.values)
        return translate(language(lang), self.detail, **self.values)

    @property
    def http_status(self) -> int:
        return HTTP_STATUS.get(self.code, 409)


class InvalidInput(ScheduleError):
    """Malformed input (a 400): an unparseable date, a time off the grid, a JSON body of the
    wrong shape. `detail` is the catalog id saying what was wrong, filled with `values`."""

    def __init__(self, detail: str, *, count: int | None = None, **values: object) -> None:
        super().__init__("invalid", detail, count=count, **values)
