"""`flask --app webapp purge | delete-user | demo-data`: the stored data's chores (old rows,
a privacy request, a demo week), each a dry run or a question until told --yes where it
deletes. The work itself is schedule.maintenance's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click
from flask import current_app
from flask.cli import with_appcontext

from schedule import maintenance
from webapp.extensions import db


def _now() -> datetime:
    return current_app.config["CLOCK"]()


@click.command("purge")
@click.option("--days", type=click.IntRange(min=0), required=True, help="Keep the last N days.")
@click.option("--yes", is_flag=True, help="Delete; without it nothing changes (a dry run).")
@with_appcontext
def purge(days: int, yes: bool) -> None:
    """Delete cancelled bookings, past trainings and closures older than N days."""
    report = maintenance.purge(db.session(), days, now=_now(), dry_run=not yes)
    cutoff = _now() - timedelta(days=days)
    click.echo(f"Older than {days} days (before {cutoff:%Y-%m-%d %H:%M} UTC):")
    click.echo(f"  cancelled bookings: {report.cancelled}")
    click.echo(f"  past bookings:      {report.past}")
    click.echo(f"  past closures:      {report.closures}")
    click.echo(f"  settled messages:   {report.messages}")
    if not yes:
        click.echo("Dry run: nothing deleted. Run again with --yes to delete.")
    else:
        rows = ", ".join(f"{table} {n}" for table, n in sorted(report.tables.items())) or "none"
        click.echo(f"Deleted rows: {rows}.")


@click.command("delete-user")
@click.argument("telegram_id", type=int)
@click.option("--yes", is_flag=True, help="Delete; without it only show what would go.")
@with_appcontext
def delete_user(telegram_id: int, yes: bool) -> None:
    """Delete a user and everything stored about them (a privacy request)."""
    found = maintenance.user_footprint(db.session(), telegram_id, now=_now())
    if found is None:
        raise click.ClickException(f"no user with Telegram id {telegram_id}")
    click.echo(
        f"User {found.telegram_id} ({found.name}): {found.bookings} bookings, "
        f"{found.upcoming} of them upcoming."
    )
    if not yes:
        click.echo("Nothing deleted. Run again with --yes to delete this user and their data.")
        return
    removed = maintenance.delete_user(db.session(), telegram_id) or {}
    rows = ", ".join(f"{table} {n}" for table, n in sorted(removed.items()))
    click.echo(f"Deleted: {rows}.")


@click.command("demo-data")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--clear", is_flag=True, help="Remove the demo users and their bookings instead.")
@click.option("--yes", is_flag=True, help="Needed on PostgreSQL, where real clients may book.")
@with_appcontext
def demo_data(seed: int, clear: bool, yes: bool) -> None:
    """Demo clients (Russian and English names) and a week of bookings, by the booking rules."""
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    if not clear and not yes and not url.startswith("sqlite"):
        raise click.ClickException(
            "demo bookings take real places; this is not a SQLite database, so add --yes "
            "if nobody books here"
        )
    if clear:
        ids = maintenance.demo_users(db.session())
        for telegram_id in ids:
            maintenance.delete_user(db.session(), telegram_id)
        click.echo(f"Removed {len(ids)} demo users and their bookings.")
        return
    report = maintenance.load_demo_week(
        db.session(), current_app.config["SCHEDULE"], now=_now(), seed=seed
    )
    click.echo(
        f"Demo data: {report.users} users, {report.booked} bookings over the next week "
        f"({report.cancelled} of them cancelled)."
    )
    if report.full_start is not None:
        local = report.full_start.replace(tzinfo=UTC).astimezone(
            current_app.config["SCHEDULE"].zone
        )
        click.echo(f"Full start: {local:%a %d %b %H:%M}, {report.waiting} clients waiting.")
    click.echo("Running it again replaces the demo data; real clients are never touched.")
    click.echo("Remove it with `flask --app webapp demo-data --clear`.")
