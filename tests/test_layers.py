"""The packages' layering (DESIGN.md, Shape): `schedule` imports neither the web nor the bot
framework nor the adapters; `bot` imports neither Flask nor `webapp`. Read from the source, so
an import anywhere (inside a function too) breaks it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FORBIDDEN = {
    "schedule": ("flask", "flask_sqlalchemy", "werkzeug", "telebot", "webapp", "bot"),
    "bot": ("flask", "flask_sqlalchemy", "flask_limiter", "werkzeug", "webapp"),
}


def imported(source: str) -> set[str]:
    """Every absolute module name `source` imports, anywhere in it."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def breaks(package: str, source: str) -> list[str]:
    """The imports in `source` that `package` may not make."""
    return sorted(
        name
        for name in imported(source)
        if any(name == top or name.startswith(top + ".") for top in FORBIDDEN[package])
    )


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_imports_only_what_its_layer_allows(package):
    found = {
        str(path.relative_to(ROOT)): wrong
        for path in sorted((ROOT / package).rglob("*.py"))
        if (wrong := breaks(package, path.read_text(encoding="utf-8")))
    }
    assert found == {}


def test_the_check_sees_imports_anywhere():
    source = "import os\ndef f():\n    from flask import g\n    import webapp.api\n"
    assert breaks("bot", source) == ["flask", "webapp.api"]
    assert breaks("schedule", "from telebot.types import Message\nimport bot.keyboards") == [
        "bot.keyboards",
        "telebot.types",
    ]
    assert breaks("bot", "from . import keyboards\nfrom schedule import services") == []
