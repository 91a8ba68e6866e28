"""QImage helpers: the one pixel format the app stores, and conversions to what the engine wants.

Every layer image is `Format_RGBA8888` (straight alpha, byte order R,G,B,A), because that is
exactly the engine's raw "rgba" encoding: a frame crosses the wire without a PNG encode or
decode. QImage (QtGui) is used rather than numpy so the model needs nothing beyond Qt.
"""

from __future__ import annotations

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QColor, QImage, QPainter

FORMAT = QImage.Format.Format_RGBA8888


def blank(width: int, height: int) -> QImage:
    """A fully transparent layer image of the shot's size."""
    img = QImage(width, height, FORMAT)
    img.fill(Qt.GlobalColor.transparent)
    return img


def normalized(img: QImage) -> QImage:
    """The image in the storage format (a cheap shared copy if it already is)."""
    return img if img.format() == FORMAT else img.convertToFormat(FORMAT)


def to_rgba_bytes(img: QImage) -> bytes:
    """Raw RGBA rows without padding (RGBA8888 rows are always width * 4 bytes)."""
    img = normalized(img)
    data = bytes(img.constBits())
    stride = img.bytesPerLine()
    w4 = img.width() * 4
    if stride == w4:
        return data[: w4 * img.height()]
    return b"".join(data[y * stride: y * stride + w4] for y in range(img.height()))


def from_rgba_bytes(data: bytes, width: int, height: int) -> QImage:
    """A QImage that owns a copy of raw RGBA rows (the engine's `rgba` frames)."""
    if len(data) != width * height * 4:
        raise ValueError(f"{len(data)} bytes is not a {width}x{height} RGBA image")
    return QImage(data, width, height, width * 4, FORMAT).copy()


def to_png_bytes(img: QImage) -> bytes:
    buf = QByteArray()
    dev = QBuffer(buf)
    dev.open(QIODevice.OpenModeFlag.WriteOnly)
    if not img.save(dev, "PNG"):
        raise OSError("could not encode the image as PNG")
    dev.close()
    return bytes(buf.data())


def from_png_bytes(data: bytes) -> QImage:
    img = QImage()
    if not img.loadFromData(data, "PNG"):
        raise ValueError("not a readable PNG image")
    return normalized(img)


def load_image(path: str) -> QImage:
    img = QImage(path)
    if img.isNull():
        raise ValueError(f"cannot read the image {path}")
    return normalized(img)


_BLANK_CACHE: dict[int, bool] = {}


def is_blank(img: QImage | None) -> bool:
    """True if the image is missing or every pixel is fully transparent.

    Memoised by `QImage.cacheKey()` (which changes whenever pixels are written), because the
    timeline asks for every visible cell on every repaint.
    """
    if img is None or img.isNull():
        return True
    key = img.cacheKey()
    hit = _BLANK_CACHE.get(key)
    if hit is None:
        hit = not to_rgba_bytes(img)[3::4].strip(b"\x00")
        if len(_BLANK_CACHE) > 4096:
            _BLANK_CACHE.clear()
        _BLANK_CACHE[key] = hit
    return hit


def tinted(img: QImage, color: QColor, opacity: float = 1.0) -> QImage:
    """The image's shape filled with one colour (onion skins, sketch layer), at `opacity`."""
    out = QImage(img.size(), QImage.Format.Format_ARGB32_Premultiplied)
    out.fill(Qt.GlobalColor.transparent)
    p = QPainter(out)
    p.drawImage(0, 0, img)
    p.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceIn)
    p.fillRect(out.rect(), color)
    p.end()
    if opacity >= 1.0:
        return out
    faded = QImage(img.size(), QImage.Format.Format_ARGB32_Premultiplied)
    faded.fill(Qt.GlobalColor.transparent)
    p = QPainter(faded)
    p.setOpacity(opacity)
    p.drawImage(0, 0, out)
    p.end()
    return faded


def over(images: list[tuple[QImage, float]], width: int, height: int) -> QImage:
    """Composite (image, opacity) pairs bottom to top onto a transparent RGBA image.

    A single opaque layer is returned as is: a key exports bit-exact (premultiplying and
    back would round the colours of its anti-aliased, semi-transparent edges).
    """
    present = [(img, o) for img, o in images if img is not None and not img.isNull()]
    if len(present) == 1 and present[0][1] >= 1.0 and present[0][0].size().toTuple() == (width, height):
        return normalized(present[0][0])
    out = QImage(width, height, QImage.Format.Format_ARGB32_Premultiplied)
    out.fill(Qt.GlobalColor.transparent)
    p = QPainter(out)
    for img, opacity in images:
        if img is None or img.isNull():
            continue
        p.setOpacity(opacity)
        p.drawImage(0, 0, img)
    p.end()
    return out.convertToFormat(FORMAT)
