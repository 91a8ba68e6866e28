"""Client library of the in-betweening engine: standard library only.

The Krita plugin bundles a copy of this package (made by its build script), so it must
never import numpy, Qt or anything outside Python's standard library.
"""

__version__ = "0.1.0"
PROTOCOL_VERSION = 1
