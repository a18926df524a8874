"""The packages' layering (DESIGN.md, Shape): `schedule` imports neither the web nor the bot
framework nor the adapters; `bot` and `webapp` import nothing of each other; only the runtime
imports all three (webapp's one door to it: create_app in webapp/__init__.py, which
`flask --app webapp` calls); no import circles between project files. Read from the source, so
an import anywhere (inside a function too) breaks it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FORBIDDEN = {
    "schedule": ("flask", "flask_sqlalchemy", "werkzeug", "telebot", "webapp", "bot", "runtime"),
    "bot": ("flask", "flask_sqlalchemy", "flask_limiter", "werkzeug", "webapp", "runtime"),
    "webapp": ("bot", "telebot", "runtime"),
}
# The door `flask --app webapp` comes through: create_app asks the runtime for the wired app.
DOORS = {"webapp/__init__.py": ("runtime.compose",)}


def imported(source: str) -> set[str]:
    """Every absolute module name `source` imports, anywhere in it."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def breaks(package: str, source: str, path: str = "") -> list[str]:
    """The imports in `source` (the file `path`) that `package` may not make."""
    return sorted(
        name
        for name in imported(source)
        if any(name == top or name.startswith(top + ".") for top in FORBIDDEN[package])
        and name not in DOORS.get(path, ())
    )


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_imports_only_what_its_layer_allows(package):
    found = {
        str(path.relative_to(ROOT)): wrong
        for path in sorted((ROOT / package).rglob("*.py"))
        if (wrong := breaks(package, path.read_text(encoding="utf-8"), str(path.relative_to(ROOT))))
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
    assert breaks("webapp", "from runtime.compose import web_app", "webapp/__init__.py") == []
    assert breaks("webapp", "from runtime.compose import web_app", "webapp/api.py") == [
        "runtime.compose"
    ]


# No import circles between the project's files ------------------------------------------------

PACKAGES = ("schedule", "bot", "webapp", "runtime")


def module_file(module: str) -> str | None:
    """The project file a dotted module name is, or None outside the project."""
    path = ROOT.joinpath(*module.split("."))
    if path.with_suffix(".py").is_file():
        return str(path.with_suffix(".py").relative_to(ROOT))
    if (path / "__init__.py").is_file():
        return str((path / "__init__.py").relative_to(ROOT))
    return None


def imports_of(path: Path) -> set[str]:
    """The project files `path` imports, anywhere in it: `from pkg import submodule` names the
    submodule, relative imports are resolved."""
    relative = path.relative_to(ROOT)
    package = list(relative.parent.parts)
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            stem = ".".join([*base, *(node.module.split(".") if node.module else [])])
            modules = [f"{stem}.{alias.name}" for alias in node.names] + [stem]
            # `from pkg import name`: the submodule when there is one, else the package itself
            modules = [m for m in modules[:-1] if module_file(m)] or [stem]
        else:
            continue
        found.update(f for m in modules if (f := module_file(m)) and f != str(relative))
    return found


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one file (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(groups)


def test_no_import_circles_between_project_files():
    files = [p for top in PACKAGES for p in sorted((ROOT / top).rglob("*.py"))]
    files += [ROOT / "wsgi.py", ROOT / "bot_main.py"]
    graph = {str(p.relative_to(ROOT)): imports_of(p) for p in files if "versions" not in p.parts}
    assert circles(graph) == []


def test_the_circle_check_finds_a_circle():
    assert circles({"a.py": {"b.py"}, "b.py": {"c.py"}, "c.py": {"a.py"}, "d.py": {"a.py"}}) == [
        ["a.py", "b.py", "c.py"]
    ]
    assert circles({"a.py": {"b.py"}, "b.py": set()}) == []
    # a real file of this project resolves: relative imports and `from pkg import submodule`
    assert "runtime/config.py" in imports_of(ROOT / "runtime" / "compose.py")
    assert "webapp/app.py" in imports_of(ROOT / "webapp" / "__init__.py")


# The environment is read in one place: runtime/config.py (DESIGN.md, Shape) ------------------

ENVIRONMENT_READERS = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}
MAY_READ_THE_ENVIRONMENT = {"runtime/config.py"}


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
