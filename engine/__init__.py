"""The in-betweening engine: one local process that owns the models and the job queue.

Nothing in this package imports Qt; the desktop app and the Krita plugin talk to it
only through the socket protocol (see docs/protocol.md and the `inbetween_client` package).
"""

from inbetween_client import __version__

__all__ = ["__version__"]
