"""What a real engine advertises about its backends, which the app and the plugin build their
option widgets from (they keep no tables of their own once the engine says)."""

from __future__ import annotations

from inbetween_client.client import EngineClient


def test_every_backend_lists_the_options_it_uses(engine):
    with EngineClient.connect(engine.info) as c:
        backends = {b["name"]: b for b in c.capabilities["backends"]}
    assert all(isinstance(b["options"], list) for b in backends.values())
    # the seed only where a backend draws random numbers; sketch strength only where sketches steer a model
    assert set(backends["tooncrafter"]["options"]) == {"seed", "steps", "guidance", "sketch_strength"}
    assert set(backends["animate_anyone"]["options"]) == {"seed", "steps", "guidance", "reference"}
    assert "seed" not in backends["flow"]["options"]
    # flow's one option: `learned` (false forces its classical path)
    assert set(backends["flow"]["options"]) == {"learned"}
    assert "learned" in backends["flow"]["description"] and "classical" in backends["flow"]["description"]
