"""What a real engine advertises about its backends, which the app and the plugin build their
option widgets from (they keep no tables of their own once the engine says)."""

from __future__ import annotations

import pytest

from inbetween_client.client import EngineClient
from inbetween_client.errors import ErrorCode, RemoteError
from inbetween_client.images import ImageData
from inbetween_client.shot import ShotRequest
from tests.imaging import disc_image, png_bytes


def test_every_backend_lists_the_options_it_uses(engine):
    with EngineClient.connect(engine.info) as c:
        backends = {b["name"]: b for b in c.capabilities["backends"]}
    assert all(isinstance(b["options"], list) for b in backends.values())
    # the seed only where a backend draws random numbers; sketch strength only where sketches steer a model
    assert set(backends["tooncrafter"]["options"]) == {"seed", "steps", "guidance", "sketch_strength"}
    assert set(backends["animate_anyone"]["options"]) == {"seed", "steps", "guidance", "reference"}
    assert "seed" not in backends["flow"]["options"]
    # flow's options: `learned` (false forces its classical path) and `preview` (the fast setting)
    assert set(backends["flow"]["options"]) == {"learned", "preview"}
    assert "learned" in backends["flow"]["description"] and "classical" in backends["flow"]["description"]


@pytest.mark.parametrize("name, value", [("preview", "yes"), ("learned", 1)])
def test_flow_refuses_an_option_that_is_not_true_or_false(engine, name, value):
    """Refused at submit, naming the option: a job that would silently run the slow or the
    wrong path is worse than a clear error."""
    a = ImageData.png(png_bytes(disc_image(64, 48, center=(20, 24))))
    b = ImageData.png(png_bytes(disc_image(64, 48, center=(44, 24))))
    with EngineClient.connect(engine.info) as c:
        with pytest.raises(RemoteError, match=f"options.{name} must be true or false") as err:
            c.submit(ShotRequest.between(a, b, inbetweens=1, backend="flow", options={name: value}))
        assert err.value.code == ErrorCode.BAD_SHOT
        assert c.status()  # the connection is still good
