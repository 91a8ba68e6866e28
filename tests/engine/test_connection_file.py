"""The client finds the engine's folder the same way with and without platformdirs."""

from __future__ import annotations

import platformdirs

from inbetween_client import connection


def test_stdlib_state_dir_matches_platformdirs(monkeypatch):
    monkeypatch.delenv(connection.STATE_DIR_ENV, raising=False)
    expected = platformdirs.user_state_dir(connection.APP_NAME, appauthor=False)
    assert str(connection.stdlib_state_dir()) == expected
    monkeypatch.setenv("XDG_STATE_HOME", "/tmp/xdg-state-test")
    assert str(connection.stdlib_state_dir()) == platformdirs.user_state_dir(connection.APP_NAME, appauthor=False)


def test_unreadable_or_malformed_files_mean_no_engine(tmp_path):
    f = tmp_path / "engine.json"
    assert connection.read_connection_file(f) is None
    f.write_text("{not json")
    assert connection.read_connection_file(f) is None
    f.write_text('{"host": "127.0.0.1"}')
    assert connection.read_connection_file(f) is None


def test_remove_only_if_it_names_this_engine(tmp_path):
    f = tmp_path / "engine.json"
    info = connection.ConnectionInfo("127.0.0.1", 1, "t", 4242, 1)
    connection.write_connection_file(info, f)
    connection.remove_connection_file(f, pid=1)
    assert f.exists()
    connection.remove_connection_file(f, pid=4242)
    assert not f.exists()
