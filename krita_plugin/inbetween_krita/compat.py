"""Qt imports for both Krita 5.x (PyQt5) and Krita 6 (PyQt6).

Krita 6 ships PyQt6 only (importing PyQt5 fails there) and Krita 5 ships PyQt5 only, so every
other module of the plugin imports Qt names from here and never from PyQt directly. Only the
few names the plugin uses are exported; enum differences (PyQt6 scoped enums) are papered over
by the small helpers at the bottom.
"""

from __future__ import annotations

from typing import Any

try:  # Krita 6
    from PyQt6 import QtCore, QtGui, QtWidgets  # type: ignore[import-not-found]

    QT_API = "PyQt6"
except ImportError:  # Krita 5.x
    from PyQt5 import QtCore, QtGui, QtWidgets  # type: ignore[import-not-found,no-redef]

    QT_API = "PyQt5"

QObject = QtCore.QObject
QTimer = QtCore.QTimer
QSize = QtCore.QSize
pyqtSignal = QtCore.pyqtSignal
Qt = QtCore.Qt

QImage = QtGui.QImage
QPixmap = QtGui.QPixmap

QWidget = QtWidgets.QWidget
QFrame = QtWidgets.QFrame
QVBoxLayout = QtWidgets.QVBoxLayout
QHBoxLayout = QtWidgets.QHBoxLayout
QFormLayout = QtWidgets.QFormLayout
QGridLayout = QtWidgets.QGridLayout
QLabel = QtWidgets.QLabel
QPushButton = QtWidgets.QPushButton
QToolButton = QtWidgets.QToolButton
QComboBox = QtWidgets.QComboBox
QSpinBox = QtWidgets.QSpinBox
QDoubleSpinBox = QtWidgets.QDoubleSpinBox
QLineEdit = QtWidgets.QLineEdit
QProgressBar = QtWidgets.QProgressBar
QCheckBox = QtWidgets.QCheckBox
QSlider = QtWidgets.QSlider
QGroupBox = QtWidgets.QGroupBox
QScrollArea = QtWidgets.QScrollArea
QFileDialog = QtWidgets.QFileDialog
QApplication = QtWidgets.QApplication


def _enum(scope: Any, group: str, name: str) -> Any:
    """`scope.name` (PyQt5) or `scope.group.name` (PyQt6 scoped enums)."""
    holder = getattr(scope, group, None)
    if holder is not None and hasattr(holder, name):
        return getattr(holder, name)
    return getattr(scope, name)


def align_top() -> Any:
    return _enum(Qt, "AlignmentFlag", "AlignTop")


def align_center() -> Any:
    return _enum(Qt, "AlignmentFlag", "AlignCenter")


def horizontal() -> Any:
    return _enum(Qt, "Orientation", "Horizontal")


def keep_aspect() -> Any:
    return _enum(Qt, "AspectRatioMode", "KeepAspectRatio")


def smooth() -> Any:
    return _enum(Qt, "TransformationMode", "SmoothTransformation")


def scroll_bar_off() -> Any:
    return _enum(Qt, "ScrollBarPolicy", "ScrollBarAlwaysOff")


def format_argb32() -> Any:
    """Krita's BGRA bytes are QImage's ARGB32 on little-endian machines (every Krita platform)."""
    return _enum(QImage, "Format", "Format_ARGB32")


def format_rgba8888() -> Any:
    return _enum(QImage, "Format", "Format_RGBA8888")


def no_frame() -> Any:
    return _enum(QFrame, "Shape", "NoFrame")


def breakable(text: str, longest: int = 16) -> str:
    """`text` with zero-width spaces after the separators of long words (paths, addresses), so
    a wrapped label in a narrow docker can break them instead of growing wider."""
    out = []
    for word in text.split(" "):
        if len(word) > longest:
            for sep in "/\\:;,._-=":
                word = word.replace(sep, sep + "\u200b")
        out.append(word)
    return " ".join(out)


class WrapLabel(QLabel):
    """A label that wraps, can be selected, and never makes the docker wider (see breakable)."""

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        super().setText(breakable(text))
        self.setToolTip(text if len(text) > 90 else "")

    def text(self) -> str:
        return super().text().replace("\u200b", "")


def word_wrap_label(text: str = "") -> "QtWidgets.QLabel":
    """A label that wraps and can be selected, for status and error messages."""
    label = WrapLabel()
    label.setWordWrap(True)
    label.setMinimumWidth(40)
    label.setSizePolicy(_enum(QtWidgets.QSizePolicy, "Policy", "Ignored"),
                        _enum(QtWidgets.QSizePolicy, "Policy", "Preferred"))
    label.setTextInteractionFlags(_enum(Qt, "TextInteractionFlag", "TextSelectableByMouse"))
    label.setText(text)
    return label


def fixed_lines(label: "QtWidgets.QLabel", lines: int) -> "QtWidgets.QLabel":
    """Give a wrapped label room for `lines` lines, always: what is below it never moves (the
    whole text is in the tooltip when it is longer)."""
    label.setFixedHeight(lines * label.fontMetrics().lineSpacing() + 6)
    label.setAlignment(align_top())
    return label


def narrow_combo() -> "QtWidgets.QComboBox":
    """A combo box whose width follows the docker, not its longest entry."""
    combo = QComboBox()
    combo.setSizeAdjustPolicy(_enum(QComboBox, "SizeAdjustPolicy", "AdjustToMinimumContentsLengthWithIcon"))
    combo.setMinimumContentsLength(6)
    return combo


def wrap_long_rows(form: "QtWidgets.QFormLayout") -> None:
    """In a narrow docker, a field too wide for its row goes below its label."""
    form.setRowWrapPolicy(_enum(QFormLayout, "RowWrapPolicy", "WrapLongRows"))
