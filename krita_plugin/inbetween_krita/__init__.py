"""In-between: a Krita plugin that fills the frames between keyframes with the in-betweening engine.

Importing the package outside Krita (unit tests, the build script) registers nothing: only
when the `krita` module exposes a running application are the docker and extension added.
"""

from __future__ import annotations

__all__ = ["PLUGIN_NAME"]

PLUGIN_NAME = "inbetween_krita"


def _register() -> None:
    try:
        from krita import DockWidgetFactory, DockWidgetFactoryBase, Krita  # type: ignore[import-not-found]
    except ImportError:
        return
    app = Krita.instance()
    if app is None or not hasattr(app, "addDockWidgetFactory"):
        return
    from .docker import DOCKER_ID, InbetweenDocker
    from .extension import InbetweenExtension

    # PyQt6 bindings (Krita 6) may scope the enum: DockWidgetFactoryBase.DockPosition.DockRight
    right = getattr(DockWidgetFactoryBase, "DockRight", None)
    if right is None:
        right = DockWidgetFactoryBase.DockPosition.DockRight
    app.addExtension(InbetweenExtension(app))
    app.addDockWidgetFactory(DockWidgetFactory(DOCKER_ID, right, InbetweenDocker))


_register()
