"""inbetween-studio: the desktop timeline app of the in-betweening suite (PySide6).

The package is split so that the document can be tested without a screen: `model/` (shot,
frames, layers, undo commands; no widgets), `io/` (project files, autosave, export),
`engine_link` (the engine through `inbetween_client`), `widgets/` and `main_window`.
"""

__all__ = ["__version__"]
__version__ = "0.1.0"
