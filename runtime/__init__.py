"""What runs processes rather than answers requests.

- config: the one reader of the environment, into one immutable Config;
- compose: the composition root that wires the web app, the bot, the outbox and the worker;
- the processes: `waitress-serve wsgi:app` (compose.production_app), `python bot_main.py`
  (polling: the bot and its background work), `flask --app webapp worker` (worker.py);
- commands/ and bot_commands.py: the `flask --app webapp …` commands;
- logs/: where log lines go, and the viewer; secret.py: the signing-key file;
- migrate.py and migrations/: the schema's Alembic scripts.

It imports webapp, bot and schedule; none of them imports it (but webapp.create_app, the door
`flask --app webapp` comes through).
"""
