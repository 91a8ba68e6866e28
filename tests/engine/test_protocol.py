"""Framing unit tests: what goes on the wire and what is refused before allocation."""

from __future__ import annotations

import json
import socket
import struct

import pytest

from inbetween_client.protocol import (
    MAGIC,
    MAX_BLOB_BYTES,
    MAX_HEADER_BYTES,
    FrameError,
    Message,
    parse_header,
    parse_prefix,
    read_message,
    write_message,
)


def test_round_trip_over_a_socket_pair():
    a, b = socket.socketpair()
    blobs = [b"\x00" * 10, b"", bytes(range(256)) * 100]
    write_message(a, Message("frame", {"job": "j1", "frame": 3}, blobs))
    got = read_message(b)
    assert got.type == "frame"
    assert got.get("job") == "j1" and got.get("frame") == 3 and got.get("v") == 1
    assert got.blobs == blobs


def test_prefix_rejects_garbage_and_oversized_lengths():
    with pytest.raises(FrameError, match="magic"):
        parse_prefix(b"GET / HT")
    with pytest.raises(FrameError, match="header length"):
        parse_prefix(struct.pack(">4sI", MAGIC, MAX_HEADER_BYTES + 1))
    with pytest.raises(FrameError, match="header length"):
        parse_prefix(struct.pack(">4sI", MAGIC, 0))


@pytest.mark.parametrize("header,match", [
    (b"{not json", "not valid JSON"),
    (b"\xff\xfe", "not valid JSON"),
    (b"[1, 2]", "JSON object"),
    (b'{"v": 1}', "no message type"),
    (json.dumps({"type": "x", "blobs": [MAX_BLOB_BYTES + 1]}).encode(), "blob size"),
    (json.dumps({"type": "x", "blobs": [-1]}).encode(), "blob size"),
    (json.dumps({"type": "x", "blobs": "many"}).encode(), "list"),
    (b"[" * 100000 + b"]" * 100000, "JSON"),
])
def test_header_validation(header, match):
    with pytest.raises(FrameError, match=match):
        parse_header(header)


def test_encode_refuses_an_oversized_header():
    with pytest.raises(FrameError, match="header"):
        Message("x", {"pad": "a" * (MAX_HEADER_BYTES + 10)}).encode()
