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


def test_new_fields_and_per_document_memory(private_settings):
    s = settings.Settings(exposure=3, steps=20, guidance=7.5, write_when_done=True, app_bundle="/opt/x")
    for i in range(settings.MAX_DOCUMENTS + 5):
        s.remember_document(f"/d/{i}.kra", {"keys_name": "ink"})
    s.remember_document("/d/0.kra", {"keys_name": "again"})  # most recent goes last
    settings.save(s)
    back = settings.load()
    assert (back.exposure, back.steps, back.guidance, back.write_when_done, back.app_bundle) == (3, 20, 7.5, True, "/opt/x")
    assert len(back.documents) == settings.MAX_DOCUMENTS and list(back.documents)[-1] == "/d/0.kra"
    private_settings.write_text('{"exposure": 5, "guidance": 2, "steps": -3, "documents": {"a": 1}}')
    back = settings.load()
    assert (back.exposure, back.guidance, back.steps, back.documents) == (1, 2.0, 0, {})
