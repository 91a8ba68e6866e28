"""Authentication details that a black-box test cannot see: the token check is constant-time."""

from __future__ import annotations

import asyncio
import hmac
import threading

import pytest

from engine import server as server_module
from engine.server import EngineServer, ServerConfig
from inbetween_client.client import EngineClient
from inbetween_client.errors import RemoteError


@pytest.fixture
def in_process_server(tmp_path):
    """A real EngineServer on loopback, run in a thread, so the test can watch its internals."""
    loop = asyncio.new_event_loop()
    srv = EngineServer(ServerConfig(connection_file=tmp_path / "engine.json"))
    started = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(srv.start())
        started.set()
        loop.run_until_complete(srv.run_until_stopped())

    t = threading.Thread(target=run, daemon=True)
    t.start()
    assert started.wait(30)
    yield srv
    loop.call_soon_threadsafe(srv.request_stop)
    t.join(30)


def test_token_is_compared_with_hmac_compare_digest(in_process_server, monkeypatch):
    calls = []
    original = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return original(a, b)

    monkeypatch.setattr(server_module.hmac, "compare_digest", spy)
    info = in_process_server.connection_info
    with pytest.raises(RemoteError, match="wrong or missing token"):
        EngineClient.connect(info.__class__(**{**info.__dict__, "token": info.token[:-1] + "x"}))
    with EngineClient.connect(info) as c:
        assert c.ping() < 5
    assert len(calls) == 2
    assert calls[1][1] == info.token.encode()


def test_connection_file_is_private(in_process_server, tmp_path):
    import stat

    f = tmp_path / "engine.json"
    assert stat.S_IMODE(f.stat().st_mode) == 0o600
    assert stat.S_IMODE(f.parent.stat().st_mode) == 0o700
