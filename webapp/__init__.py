"""The Mini App and JSON API.

build_app() builds the Flask application alone from the project's configuration: blueprints,
templates, the database session, request logging and the webhook route. create_app() is the
factory `flask --app webapp` and the tests call; it is this package's one door to the runtime,
which reads the environment, adds the commands, logs and migrations and wires the bot in
(runtime.compose). Nothing else in webapp imports the runtime (tests/test_layers.py).
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask

from .app import build_app

__all__ = ["build_app", "create_app"]


def create_app(test_config: Mapping | None = None, *, config=None) -> Flask:
    """The web app as it runs, configured from the environment (or `config`, a
    runtime.config.Config) with `test_config` over it; built and wired by the runtime."""
    from runtime.compose import web_app

    return web_app(test_config, config=config)
