"""Oversize messages (issue 15, defect 4): two 8000x8000 keys used to end in "Broken pipe"
and "connection lost" while the engine lived on. Now the client refuses before sending, with
the limit from the engine's capabilities, and an engine that receives such a message anyway
skips its bytes and answers `too_large` on a connection that stays usable."""

from __future__ import annotations

import json
import struct

import pytest

from inbetween_client.errors import ErrorCode, TooLargeError
from inbetween_client.images import ImageData
from inbetween_client.limits import Limits
from inbetween_client.protocol import MAGIC, MAX_BLOB_BYTES, Message
from inbetween_client.shot import ShotRequest
from tests.engine.rawsock import RawConnection

KEY_BYTES = 8000 * 8000 * 4  # 256,000,000: one 8000x8000 RGBA key


def test_an_oversize_submit_is_skipped_and_answered_too_large_on_a_live_connection(engine, client):
    conn = RawConnection(engine.info)
    assert conn.hello().type == "welcome"
    header = json.dumps({"type": "submit", "v": 1, "ref": "big", "shot": {},
                         "blobs": [KEY_BYTES, KEY_BYTES]}).encode()
    conn.send_bytes(struct.pack(">4sI", MAGIC, len(header)) + header)
    chunk = bytes(1 << 20)
    left = 2 * KEY_BYTES
    while left:
        n = min(left, len(chunk))
        conn.send_bytes(chunk[:n])
        left -= n
    reply = conn.read()
    assert reply.type == "error" and reply.get("code") == ErrorCode.TOO_LARGE, reply
    assert reply.get("ref") == "big"
    assert str(MAX_BLOB_BYTES) in reply.get("message") and "too large" in reply.get("message")
    conn.send(Message("ping", {"ref": "after"}))  # the connection is still in step and open
    pong = conn.read()
    assert pong.type == "pong" and pong.get("ref") == "after"
    conn.close()
    assert client.status()["running"] == [] and client.ping() < 30


def test_the_client_refuses_an_oversize_shot_before_sending(engine, client):
    limits = client.limits
    assert limits == Limits.from_capabilities(client.capabilities)
    assert limits.max_side == 4096 and limits.max_blob_bytes == MAX_BLOB_BYTES
    side = 4600  # 4600x4600 RGBA is 84.6 MB: over one blob's limit
    big = ImageData.rgba(bytes(side * side * 4), side, side)
    with pytest.raises(TooLargeError) as err:
        client.submit(ShotRequest.between(big, big, inbetweens=3))
    assert err.value.code == ErrorCode.TOO_LARGE and "MiB" in err.value.message
    assert client.connected and client.ping() < 30  # nothing was sent, nothing broke


def test_limits_explain_the_canvas_at_open_time_with_the_limit_and_what_to_do():
    limits = Limits.from_capabilities({"limits": {"max_side": 4096, "max_pixels": 4096 * 4096,
                                                  "max_frames": 1000, "max_blob_bytes": MAX_BLOB_BYTES}})
    text = limits.canvas_problem(8000, 8000)
    assert "8000×8000" in text and "4096 pixels a side" in text and "scale the images down" in text
    assert "4096×4096" in text or "4095×4095" in text  # the largest canvas that fits
    assert limits.canvas_problem(4096, 4096) is None and limits.canvas_problem(1920, 1080) is None
    assert "at most 1000 frames" in limits.shot_problem(512, 320, 0, 1200)
    assert limits.shot_problem(512, 320, 0, 999) is None
    assert Limits.from_capabilities({}).canvas_problem(8000, 8000)  # the blob limit is always known
