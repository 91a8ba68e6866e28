"""A backend that raises or runs out of memory: the job fails clearly, the engine lives on."""

from __future__ import annotations

import os
import sys

import pytest

from inbetween_client.client import EngineClient
from inbetween_client.errors import RemoteError
from inbetween_client.images import ImageData
from inbetween_client.launcher import start_engine
from inbetween_client.shot import ShotRequest
from tests.imaging import disc_image, png_bytes


@pytest.fixture
def fault_engine(private_state_dir):
    env = {**os.environ, "INBETWEEN_FAULT_INJECTION": "1"}
    proc = start_engine([sys.executable, "-m", "engine"], private_state_dir / "engine.json",
                        args=["--device", "cpu"], env=env)
    yield proc
    proc.stop()


def _shot(backend: str, **options) -> ShotRequest:
    a = ImageData.png(png_bytes(disc_image()))
    b = ImageData.png(png_bytes(disc_image(center=(96, 48))))
    return ShotRequest.between(a, b, inbetweens=4, backend=backend, options=options)


@pytest.mark.parametrize("fault,code,text", [
    ("raise", "backend_failed", "faults failed: ValueError: injected failure"),
    ("oom", "out_of_memory", "ran out of memory"),
    ("memoryerror", "out_of_memory", "model was unloaded"),
])
def test_failing_backend_fails_the_job_not_the_engine(fault_engine, fault, code, text):
    with EngineClient.connect(fault_engine.info) as c:
        frames = []
        with pytest.raises(RemoteError) as err:
            c.submit(_shot("faults", fault=fault, after=2)).wait(on_frame=frames.append, timeout=60)
        assert err.value.code == code and text in err.value.message
        assert [f.frame for f in frames] == [1, 2]  # what was made before the fault still arrived
        loaded = c.status()["loaded_models"]
        if code == "out_of_memory":
            assert "faults" not in loaded  # unloaded so that the next job can retry
        else:
            assert loaded.get("faults") == ["fault-model"]
        # the engine and its worker carry on with the next job
        assert sorted(c.interpolate(_shot("flow")).frames) == [1, 2, 3, 4]
        assert sorted(c.interpolate(_shot("faults")).frames) == [1, 2, 3, 4]


def test_fault_backend_is_hidden_from_users(client):
    assert "faults" not in [b["name"] for b in client.capabilities["backends"]]
    with pytest.raises(RemoteError, match="unknown backend"):
        client.submit(_shot("faults"))


def test_too_many_frames_is_refused(client):
    a = ImageData.png(png_bytes(disc_image()))
    with pytest.raises(RemoteError, match="more than 1000"):
        client.submit(ShotRequest(128, 96, keys={0: a, 5000: a}))
