"""Bad peers against a real engine process: each gets an error and is closed; others carry on."""

from __future__ import annotations

import json
import struct

import pytest

from inbetween_client.client import EngineClient, Progress
from inbetween_client.errors import EngineNotRunning, RemoteError
from inbetween_client.images import ImageData
from inbetween_client.protocol import MAGIC, Message
from inbetween_client.shot import ShotRequest
from tests.engine.rawsock import RawConnection
from tests.imaging import disc_image, png_bytes


def _shot(inbetweens=5, w=128, h=96) -> ShotRequest:
    a = ImageData.png(png_bytes(disc_image(w, h)))
    b = ImageData.png(png_bytes(disc_image(w, h, center=(w - 30, h // 2))))
    return ShotRequest.between(a, b, inbetweens=inbetweens)


def _long_job(client: EngineClient):
    """A real flow job big enough to still be running while a test misbehaves next to it."""
    return client.submit(_shot(inbetweens=20, w=320, h=240))


def _expect_error_then_close(conn: RawConnection, code: str) -> Message:
    reply = conn.read()
    assert reply.type == "error", reply
    assert reply.get("code") == code, reply
    assert reply.get("message")
    assert conn.is_closed_by_peer()
    return reply


def test_wrong_token_is_refused_and_nothing_runs(engine):
    conn = RawConnection(engine.info)
    conn.send(Message("hello", {"token": "not-the-token", "protocol": 1}))
    _expect_error_then_close(conn, "auth_failed")
    with pytest.raises(RemoteError, match="wrong or missing token"):
        EngineClient.connect(engine.info.__class__(**{**engine.info.__dict__, "token": "x"}))


def test_missing_token_and_submit_before_auth_are_refused(engine, client):
    conn = RawConnection(engine.info)
    conn.send(Message("hello", {"protocol": 1}))
    _expect_error_then_close(conn, "auth_failed")
    conn = RawConnection(engine.info)
    conn.send(_shot().to_message())
    reply = _expect_error_then_close(conn, "auth_required")
    assert "first message must be hello" in reply.get("message")
    assert client.status()["queue"] == [] and client.status()["running"] == []


def test_protocol_version_mismatch_is_explained(engine):
    conn = RawConnection(engine.info)
    conn.send(Message("hello", {"token": engine.info.token, "protocol": 99}))
    reply = _expect_error_then_close(conn, "protocol_mismatch")
    assert "protocol 1" in reply.get("message")


@pytest.mark.parametrize("payload,code", [
    (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "bad_frame"),
    (struct.pack(">4sI", MAGIC, 0xFFFFFFFF), "bad_frame"),
    (struct.pack(">4sI", MAGIC, 9) + b"{not json", "bad_frame"),
    (struct.pack(">4sI", MAGIC, 4) + b"[12]", "bad_frame"),
])
def test_garbage_after_auth_closes_only_that_connection(engine, client, payload, code):
    job = _long_job(client)
    conn = RawConnection(engine.info)
    assert conn.hello().type == "welcome"
    conn.send_bytes(payload)
    _expect_error_then_close(conn, code)
    result = job.wait(timeout=120)
    assert len(result.frames) == 20


def test_oversized_blob_declaration_is_refused_before_reading(engine, client):
    conn = RawConnection(engine.info)
    conn.hello()
    header = json.dumps({"type": "submit", "v": 1, "blobs": [1 << 40]}).encode()
    conn.send_bytes(struct.pack(">4sI", MAGIC, len(header)) + header)
    reply = _expect_error_then_close(conn, "bad_frame")
    assert "blob size" in reply.get("message")
    assert client.ping() < 5


def test_unknown_message_type_gets_an_error_and_close(engine, client):
    conn = RawConnection(engine.info)
    conn.hello()
    conn.send(Message("rm -rf", {}))
    _expect_error_then_close(conn, "bad_message")
    assert client.ping() < 5


def test_truncated_frame_then_disconnect_does_not_disturb_others(engine, client):
    job = _long_job(client)
    conn = RawConnection(engine.info)
    conn.hello()
    chunks = _shot().to_message().encode()
    data = b"".join(chunks)
    conn.send_bytes(data[: len(data) // 2])
    conn.close()
    assert len(job.wait(timeout=120).frames) == 20
    assert client.status()["clients"] == 1


def test_silent_client_is_dropped_after_the_auth_timeout_without_blocking(engine, client):
    conn = RawConnection(engine.info)  # never says hello
    assert client.ping() < 5  # the engine keeps serving others meanwhile
    conn.close()


@pytest.mark.parametrize("mutate,match", [
    (lambda s: s.keys.__setitem__(6, ImageData(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "png", 128, 96)), "not a PNG|corrupt"),
    (lambda s: s.keys.__setitem__(6, ImageData.png(png_bytes(disc_image(64, 64)))), "same size"),
    (lambda s: s.sketches.__setitem__(0, s.keys[0]), "on a keyframe"),
    (lambda s: setattr(s, "backend", "magic"), "unknown backend"),
])
def test_bad_shots_get_clear_errors_and_the_connection_stays(client, mutate, match):
    req = _shot()
    mutate(req)
    with pytest.raises(RemoteError, match=match):
        client.submit(req)
    assert len(client.interpolate(_shot(inbetweens=2)).frames) == 2


def test_connect_without_engine_says_so(private_state_dir):
    with pytest.raises(EngineNotRunning, match="not running"):
        EngineClient.connect()


def test_progress_reaches_one(client):
    seen: list[Progress] = []
    result = client.interpolate(_shot(inbetweens=4), on_progress=seen.append)
    assert sorted(result.frames) == [1, 2, 3, 4]
    assert seen and seen[-1].fraction == pytest.approx(1.0)
