"""What a finished job's stats tell the animator beyond the frames, in the words the studio and
the Krita plugin both add to their "done" message (one place, so the two never drift apart)."""

from __future__ import annotations

from typing import Any

#: `flow_poses` in the flow backend's done stats: how the poses moved the frames (the part
#: layers, or the fast preview's skinning of the network's flows).
POSES_BY_LAYERS = "part layers"
POSES_BY_SKINNING = "skinning (fast preview)"


def done_notes(stats: dict[str, Any]) -> list[str]:
    """Sentences for the done message: a fast preview is never taken for the final frames, and
    the engine's one-line how-to when flow ran its classical path."""
    notes = []
    if stats.get("flow_poses") == POSES_BY_SKINNING:
        notes.append("Fast preview: untick it for the final frames.")
    hint = stats.get("flow_hint")
    if isinstance(hint, str) and hint:
        notes.append(f"Note: {hint}.")
    return notes
