"""Packaging: the PyInstaller bundle (build.spec, scripts/build.sh) and what it relies on."""
