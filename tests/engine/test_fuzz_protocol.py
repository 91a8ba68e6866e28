"""Property-based fuzzing of a live engine: whatever a peer sends, the engine keeps serving.

A few hundred cases here (seconds); the long campaign with memory bounds is a benchmark.
"""

from __future__ import annotations

import json
import socket
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inbetween_client.protocol import MAGIC, PREFIX, FrameError, parse_header, parse_prefix

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)

message_types = st.sampled_from(["hello", "submit", "cancel", "status", "ping", "capabilities",
                                 "shutdown", "frame", "", "welcome"]) | st.text(max_size=12)


def _frame(header: dict, blobs: list[bytes]) -> bytes:
    raw = json.dumps(header).encode()
    return PREFIX.pack(MAGIC, len(raw)) + raw + b"".join(blobs)


payloads = st.one_of(
    st.binary(max_size=300),  # random bytes
    st.builds(lambda n, rest: struct.pack(">4sI", MAGIC, n) + rest,  # lying length prefixes
              st.integers(0, 2**32 - 1), st.binary(max_size=64)),
    st.builds(lambda t, fields, blobs: _frame({**fields, "type": t, "v": 1,
                                               "blobs": [len(b) for b in blobs]}, blobs),
              message_types, st.dictionaries(st.text(max_size=8), json_values, max_size=5),
              st.lists(st.binary(max_size=32), max_size=3)),
    st.builds(lambda t, v, extra: _frame({"type": t, "v": v, "blobs": extra}, []),  # bad versions / blob lists
              message_types, json_values, json_values),
)


@pytest.fixture(scope="module")
def live_engine(tmp_path_factory):
    import os
    import sys

    from inbetween_client.launcher import start_engine

    state = tmp_path_factory.mktemp("fuzz-state")
    proc = start_engine([sys.executable, "-m", "engine"], state / "engine.json", args=["--device", "cpu"],
                        env={**os.environ, "INBETWEEN_STATE_DIR": str(state)})
    yield proc
    proc.stop()


def _exchange(info, payload: bytes, authenticate: bool) -> None:
    with socket.create_connection((info.host, info.port), timeout=10) as s:
        if authenticate:
            s.sendall(_frame({"type": "hello", "v": 1, "token": info.token, "protocol": 1, "blobs": []}, []))
        try:
            s.sendall(payload)
            s.shutdown(socket.SHUT_WR)
            s.settimeout(10)
            while s.recv(65536):
                pass
        except (ConnectionResetError, BrokenPipeError):
            pass


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=payloads, authenticate=st.booleans())
def test_engine_survives_arbitrary_input(live_engine, payload, authenticate):
    if b'"shutdown"' in payload and authenticate:
        return  # an authenticated shutdown is a legitimate request, not a fault
    _exchange(live_engine.info, payload, authenticate)
    from inbetween_client.client import EngineClient

    with EngineClient.connect(live_engine.info) as c:
        assert c.ping() < 10


@given(st.binary(max_size=64))
def test_parsers_raise_only_frame_errors(data):
    try:
        parse_prefix((data + b"\0" * 8)[:8])
    except FrameError:
        pass
    try:
        parse_header(data)
    except FrameError:
        pass
