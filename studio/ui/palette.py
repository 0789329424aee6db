"""Colours of the editor and the application theme: track colours, velocity shades, the dark
piano-roll background, and the Fusion palette plus style sheet applied to the whole app."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from studio.paths import RESOURCES_DIR

# 16 distinct colours that read well on a dark background (track i takes TRACK_COLORS[i % 16]).
TRACK_COLORS = (
    "#4fa3e0", "#e0754f", "#6cc070", "#d8b84a", "#b07be0", "#4fc9c0", "#e05f8d", "#9fb84a",
    "#7a8ee8", "#e09a4f", "#4fe09a", "#e04f4f", "#c9c94f", "#4f7ae0", "#d07bc0", "#8ad0e8",
)
VELOCITY_SHADES = 8  # notes are drawn in this many shades, darker for softer notes

BACKGROUND = QColor("#262a30")
BLACK_KEY_ROW = QColor("#1f2227")
C_ROW_LINE = QColor("#3b414b")
GRID_LINE = QColor("#30353d")
BEAT_LINE = QColor("#3d434d")
BAR_LINE = QColor("#5a6270")
SELECTED_FILL = QColor("#f2f5ff")   # white: no track colour is white
SELECTED_EDGE = QColor("#ff8c1a")
PLAYHEAD = QColor("#ff5a4f")
LOOP_FILL = QColor(80, 160, 255, 40)
LOOP_EDGE = QColor("#5aa0ff")
RANGE_FILL = QColor(255, 255, 255, 28)
RUBBER_BAND = QColor(255, 255, 255, 60)
TEXT = QColor("#d6dae0")
DIM_TEXT = QColor("#8a929e")


def argb(c: QColor) -> int:
    """`c` as an opaque 0xAARRGGBB integer (the pixels of a Format_RGB32 QImage)."""
    return 0xFF000000 | (c.red() << 16) | (c.green() << 8) | c.blue()


def track_color(index: int, chosen: str | None = None) -> QColor:
    """The colour of the track at `index` (or the one the user chose)."""
    c = QColor(chosen) if chosen else QColor()
    return c if c.isValid() else QColor(TRACK_COLORS[index % len(TRACK_COLORS)])


def toward_background(c: QColor, k: float) -> QColor:
    """`c` mixed with the background: k=1 is `c`, k=0 the background (opaque either way)."""
    return QColor(round(BACKGROUND.red() + (c.red() - BACKGROUND.red()) * k),
                  round(BACKGROUND.green() + (c.green() - BACKGROUND.green()) * k),
                  round(BACKGROUND.blue() + (c.blue() - BACKGROUND.blue()) * k))


def velocity_shades(base: QColor, strength: float = 1.0) -> list[QColor]:
    """VELOCITY_SHADES opaque colours from soft (towards the background) to loud (full colour);
    `strength` < 1 dims them all (tracks other than the current one)."""
    return [toward_background(base, strength * (0.35 + 0.65 * (i + 1) / VELOCITY_SHADES))
            for i in range(VELOCITY_SHADES)]



def apply_theme(app: QApplication) -> None:
    """Fusion style with a dark palette, plus resources/style.qss."""
    app.setStyle("Fusion")
    p = QPalette()
    roles = {
        QPalette.ColorRole.Window: "#2d3138", QPalette.ColorRole.WindowText: "#d6dae0",
        QPalette.ColorRole.Base: "#23262c", QPalette.ColorRole.AlternateBase: "#2a2e35",
        QPalette.ColorRole.ToolTipBase: "#f0f0f0", QPalette.ColorRole.ToolTipText: "#202020",
        QPalette.ColorRole.Text: "#d6dae0", QPalette.ColorRole.Button: "#353a42",
        QPalette.ColorRole.ButtonText: "#d6dae0", QPalette.ColorRole.BrightText: "#ff6060",
        QPalette.ColorRole.Highlight: "#4f8fd8", QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: "#6fb0ff", QPalette.ColorRole.PlaceholderText: "#7a828e",
    }
    for role, colour in roles.items():
        p.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text,
                 QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6a717c"))
    app.setPalette(p)
    qss = RESOURCES_DIR / "style.qss"
    if qss.is_file():
        app.setStyleSheet(qss.read_text(encoding="utf-8"))
