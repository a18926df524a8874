"""Log entries as readable terminal lines, for the running services and for the viewer.

Request paths, names and other strings users choose end up in log fields. Printed raw, an
escape sequence (%1b) would drive the operator's terminal and a newline (%0a) would start a
line of the attacker's making; so every field is printed with its control characters escaped
(as werkzeug escapes its request lines), and a traceback's lines are indented, so that each
line starting at the left margin is one this module wrote.
"""

from __future__ import annotations

from .lines import JsonLines

COLORS = {"web": "\033[36m", "bot": "\033[35m"}
LEVEL_COLORS = {"WARNING": "\033[33m", "ERROR": "\033[31m", "CRITICAL": "\033[1;31m"}
RESET = "\033[0m"
HIDDEN = ("time", "level", "service", "event", "logger", "exc")
# werkzeug's dev server escapes its request lines itself, then colours them.
PRE_ESCAPED = ("werkzeug",)

_UNSAFE = str.maketrans(
    {
        **{c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))},
        **{ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t", ord("\\"): "\\\\"},
        # invisible or reordering characters that could disguise a line
        **{
            c: f"\\u{c:04x}"
            for c in (*range(0x200B, 0x2010), *range(0x2028, 0x202F), *range(0x2066, 0x206A))
        },
        0xFEFF: "\\ufeff",
    }
)


def printable(value: object) -> str:
    """`value` as text with control characters, newlines and backslashes escaped."""
    return str(value).translate(_UNSAFE)


def format_line(entry: dict, color: bool, escape: bool = True) -> str:
    """A log entry (a JSON line's fields) as one readable terminal line."""
    clean = printable if escape else str
    stamp = str(entry.get("time", ""))[11:23]
    service = f"{clean(entry.get('service', '?')):<4}"
    level = f"{clean(entry.get('level', '')):<7}"
    extras = " ".join(
        f"{clean(k)}={clean(v)}" for k, v in entry.items() if k not in HIDDEN and v is not None
    )
    if color:
        service = COLORS.get(service.strip(), "") + service + RESET
        level = LEVEL_COLORS.get(level.strip(), "") + level + RESET
    text = f"{clean(stamp)} {service} {level} {clean(entry.get('event', ''))}"
    if extras:
        text += f"  {extras}"
    if entry.get("exc"):
        trace = str(entry["exc"]).splitlines()
        text += "".join("\n    " + (printable(line) if escape else line) for line in trace)
    return text


class TerminalLines(JsonLines):
    """The JSON lines' fields, printed by format_line."""

    def __init__(self, color: bool) -> None:
        super().__init__()
        self.color = color

    def serialize_log_record(self, log_data: dict) -> str:
        escape = not str(log_data.get("logger", "")).startswith(PRE_ESCAPED)
        return format_line(log_data, self.color, escape=escape)


def wants_color(stream, no_color: bool = False) -> bool:
    """Colours on a terminal unless NO_COLOR is set (runtime.config.Config.no_color)."""
    return hasattr(stream, "isatty") and stream.isatty() and not no_color
