"""Settings survive a round trip, tolerate junk, and are written atomically."""

from __future__ import annotations

from inbetween_krita import settings


def test_round_trip(private_settings):
    s = settings.Settings(engine_command="inbetween-engine", backend="tooncrafter", seed=3, timing="ease-out")
    assert settings.save(s) == private_settings
    assert settings.load() == s
    assert [p.name for p in private_settings.parent.iterdir()] == [private_settings.name]  # no temp left


def test_junk_falls_back_to_defaults(private_settings):
    private_settings.write_text("{not json")
    assert settings.load() == settings.Settings()
    private_settings.write_text('{"seed": -4, "timing": "wobbly", "backend": 5, "start_engine": "yes",'
                                ' "engine_command": "x", "extra": 1}')
    s = settings.load()
    assert (s.seed, s.timing, s.backend, s.start_engine, s.engine_command) == (0, "linear", "flow", True, "x")
    private_settings.write_text('{"seed": true}')
    assert settings.load().seed == 0
