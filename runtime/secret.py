"""The key that signs calendar and export links: SECRET_KEY, or one kept in the instance folder.

Every process on a host must sign with the same key, or a link made by one web process is a 404
on another and after each restart. When SECRET_KEY is unset, the first process to start makes
a random key and writes it to `instance/secret_key` (mode 600); every later process, and every
restart, reads that file (and makes it 600 again, with a warning, if others could read it).
Two processes starting at once agree: the file appears whole or not at all (written aside,
then hard-linked into place, which fails if the other won).
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import tempfile
from pathlib import Path

FILE_NAME = "secret_key"

log = logging.getLogger("runtime.secret")


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
    _keep_private(path)
    key = path.read_text().strip()
    if len(key) < 32:
        raise RuntimeError(f"{path} holds no usable key: delete it to have a new one made")
    return key


def _keep_private(path: Path) -> None:
    """A key file others may read (copied in with the wrong mode, say) is made 0600 again,
    with a warning: anyone who reads it can forge calendar and export links."""
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        os.chmod(path, 0o600)
        log.warning(
            "secret_key.mode_fixed",
            extra={"path": str(path), "was": oct(mode), "now": "0o600"},
        )


def key_source(app_secret: str | None, instance_path: str) -> str:
    """Where the app's key comes from, for `diagnose`."""
    if app_secret and app_secret != _peek(Path(instance_path) / FILE_NAME):
        return "SECRET_KEY (environment, .env or instance/config.py)"
    return f"{Path(instance_path) / FILE_NAME} (made once, shared by every process on this host)"


def _peek(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None
