"""The key that signs calendar and export links: SECRET_KEY, or one kept in the instance folder.

Every process on a host must sign with the same key, or a link made by one web process is a 404
on another and after each restart. When SECRET_KEY is unset, the first process to start makes
a random key and writes it to `instance/secret_key` (mode 600); every later process, and every
restart, reads that file. Two processes starting at once agree: the file appears whole or not
at all (written aside, then hard-linked into place, which fails if the other won).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path

FILE_NAME = "secret_key"


def instance_secret_key(instance_path: str | Path) -> str:
    """The key in `instance_path`/secret_key, made once if there is none."""
    path = Path(instance_path) / FILE_NAME
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, draft = tempfile.mkstemp(dir=path.parent, prefix=".secret_key-")
    try:
        with os.fdopen(descriptor, "w") as file:  # mkstemp makes it 0600
            file.write(secrets.token_hex(32) + "\n")
        with contextlib.suppress(FileExistsError):  # another process made it first: use theirs
            os.link(draft, path)
    finally:
        os.unlink(draft)
    return _read(path)


def _read(path: Path) -> str:
    key = path.read_text().strip()
    if len(key) < 32:
        raise RuntimeError(f"{path} holds no usable key: delete it to have a new one made")
    return key


def key_source(config_secret: str | None, environ_secret: str | None, instance_path: str) -> str:
    """Where the app's key comes from, for `diagnose`."""
    if environ_secret:
        return "SECRET_KEY (environment or .env)"
    if config_secret and config_secret != _peek(Path(instance_path) / FILE_NAME):
        return "instance/config.py or the test configuration"
    return f"{Path(instance_path) / FILE_NAME} (made once, shared by every process on this host)"


def _peek(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None
