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


# The environment is read in one place: the composition root (DESIGN.md, Shape) ---------------

ENVIRONMENT_READERS = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}
MAY_READ_THE_ENVIRONMENT = {"bootstrap.py"}


def reads_environment(source: str) -> bool:
    """Whether `source` touches os.environ / os.getenv (as `os.x` or imported from os)."""
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
            and node.attr in ENVIRONMENT_READERS
        ):
            return True
        if (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and any(alias.name in ENVIRONMENT_READERS for alias in node.names)
        ):
            return True
    return False


def project_sources() -> list[Path]:
    skipped = {".venv", "tests", "build"}
    return sorted(
        path
        for path in ROOT.rglob("*.py")
        if not skipped.intersection(path.relative_to(ROOT).parts[:1])
        and "site-packages" not in path.parts
    )


def test_only_the_composition_root_reads_the_environment():
    readers = [
        str(path.relative_to(ROOT))
        for path in project_sources()
        if reads_environment(path.read_text(encoding="utf-8"))
    ]
    assert readers == sorted(MAY_READ_THE_ENVIRONMENT)


def test_the_environment_check_sees_every_way_in():
    assert reads_environment("import os\ndef f():\n    return os.environ.get('X')")
    assert reads_environment("import os\nx = os.getenv('X')")
    assert reads_environment("from os import environ\n")
    assert not reads_environment("def f(environ):\n    return environ.get('X')")
    assert not reads_environment("import os\npath = os.path.join('a', 'b')")
