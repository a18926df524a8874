"""The booking domain: rules, time grid, availability and services. No Flask, no telebot."""

from . import broadcasts, outbox, series
from .errors import InvalidInput, ScheduleError
from .models import Base, Booking, Closure, OpeningHours, User
from .settings import ConfigError, Settings

__all__ = [
    "Base",
    "Booking",
    "Closure",
    "ConfigError",
    "InvalidInput",
    "OpeningHours",
    "ScheduleError",
    "Settings",
    "User",
    "broadcasts",
    "outbox",
    "series",
]
