"""runtime.secret: one signing key per host when SECRET_KEY is unset, made once, mode 600."""

from __future__ import annotations

import multiprocessing
import stat

from runtime.secret import instance_secret_key


def test_the_key_is_made_once_with_mode_600_and_read_afterwards(tmp_path):
    key = instance_secret_key(tmp_path)

    path = tmp_path / "secret_key"
    assert len(key) == 64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert instance_secret_key(tmp_path) == key
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]  # no drafts left behind


def _make(folder: str, keys) -> None:
    keys.put(instance_secret_key(folder))


def test_processes_starting_at_once_agree_on_one_key(tmp_path):
    spawn = multiprocessing.get_context("spawn")
    keys = spawn.Queue()
    racers = [spawn.Process(target=_make, args=(str(tmp_path), keys)) for _ in range(6)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(60)

    made = {keys.get(timeout=10) for _ in racers}
    assert len(made) == 1
    assert made == {(tmp_path / "secret_key").read_text().strip()}


def test_a_key_file_others_can_read_is_made_private_with_a_warning(tmp_path, caplog):
    path = tmp_path / "secret_key"
    path.write_text("k" * 64 + "\n")
    path.chmod(0o644)  # copied in with the wrong mode

    with caplog.at_level("WARNING", logger="runtime.secret"):
        key = instance_secret_key(tmp_path)

    assert key == "k" * 64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [r.message for r in caplog.records] == ["secret_key.mode_fixed"]
    caplog.clear()
    instance_secret_key(tmp_path)  # private now: nothing more to say
    assert caplog.records == []
