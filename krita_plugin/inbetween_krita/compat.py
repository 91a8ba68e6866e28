"""Qt imports for both Krita 5.x (PyQt5) and Krita 6 (PyQt6).

Krita 6 ships PyQt6 only (importing PyQt5 fails there) and Krita 5 ships PyQt5 only, so every
other module of the plugin imports Qt names from here and never from PyQt directly. Only the
few names the plugin uses are exported; enum differences (PyQt6 scoped enums) are papered over.
"""

from __future__ import annotations

try:  # Krita 6
    from PyQt6 import QtCore, QtWidgets  # type: ignore[import-not-found]

    QT_API = "PyQt6"
except ImportError:  # Krita 5.x
    from PyQt5 import QtCore, QtWidgets  # type: ignore[import-not-found,no-redef]

    QT_API = "PyQt5"

QObject = QtCore.QObject
QTimer = QtCore.QTimer
pyqtSignal = QtCore.pyqtSignal
Qt = QtCore.Qt

QWidget = QtWidgets.QWidget
QVBoxLayout = QtWidgets.QVBoxLayout
QHBoxLayout = QtWidgets.QHBoxLayout
QFormLayout = QtWidgets.QFormLayout
QLabel = QtWidgets.QLabel
QPushButton = QtWidgets.QPushButton
QComboBox = QtWidgets.QComboBox
QSpinBox = QtWidgets.QSpinBox
QLineEdit = QtWidgets.QLineEdit
QProgressBar = QtWidgets.QProgressBar
QCheckBox = QtWidgets.QCheckBox
QApplication = QtWidgets.QApplication


def align_top() -> "Qt.AlignmentFlag":
    """Qt.AlignTop (PyQt5) or Qt.AlignmentFlag.AlignTop (PyQt6)."""
    flag = getattr(Qt, "AlignmentFlag", Qt)
    return flag.AlignTop


def word_wrap_label(text: str = "") -> "QtWidgets.QLabel":
    """A label that wraps and can be selected, for status and error messages."""
    label = QLabel(text)
    label.setWordWrap(True)
    flags = getattr(Qt, "TextInteractionFlag", Qt)
    label.setTextInteractionFlags(flags.TextSelectableByMouse)
    return label
