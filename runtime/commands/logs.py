"""`flask --app webapp logs`: the JSON logs of logs/<service>.log as readable lines (tail,
level, follow)."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from .. import logs


@click.command("logs")
@click.option(
    "--service", type=click.Choice(["all", *logs.SERVICES]), default="all", show_default=True
)
@click.option("--follow", "-f", is_flag=True, help="Keep printing new lines until Ctrl+C.")
@click.option("--tail", "-n", type=click.IntRange(min=0), default=50, show_default=True)
@click.option(
    "--level",
    type=click.Choice(logs.LEVELS, case_sensitive=False),
    default="DEBUG",
    show_default=True,
    help="Show this level and above.",
)
@with_appcontext
def logs_command(service: str, follow: bool, tail: int, level: str) -> None:
    """Show the JSON logs of logs/<service>.log as readable lines."""
    directory = logs.log_dir(current_app)
    services = logs.SERVICES if service == "all" else (service,)
    paths = [directory / f"{name}.log" for name in services]
    if not any(path.exists() and path.stat().st_size for path in paths) and not follow:
        raise click.ClickException(
            f"no logs in {directory} ({', '.join(p.name for p in paths)}); they appear once "
            "the web app or the bot has run"
        )
    color = sys.stdout.isatty()
    ends = logs.sizes(paths)
    entries = [e for path in paths for e in logs.read_entries(path, tail, level, ends[path])]
    entries.sort(key=logs.instant)
    for entry in entries[-tail:] if tail else []:
        click.echo(logs.format_line(entry, color))
    if follow:
        try:
            for entry in logs.follow(paths, level, positions=ends):
                click.echo(logs.format_line(entry, color))
        except KeyboardInterrupt:
            pass
