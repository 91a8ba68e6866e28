"""The shot document: frames, roles, layers, exposure and the undo commands that edit them.

Nothing here imports a widget, so the whole model runs (and is tested) without a window.
"""

from .shot import Frame, LayerKind, Role, ShotDocument, TIMINGS
from .commands import ReplaceFramesCommand, ShotSettingsCommand

__all__ = ["Frame", "LayerKind", "Role", "ShotDocument", "TIMINGS", "ReplaceFramesCommand",
           "ShotSettingsCommand"]
