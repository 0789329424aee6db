"""Where things are in the piano roll: the mapping between ticks/pitches and pixels, the zoom and
the scroll position, shared by the note canvas, the ruler, the keyboard and the velocity lane, and
the snap grid (`Snap`)."""

from __future__ import annotations

import math

from PySide6.QtCore import QObject, Signal

from studio.music.operations import GRIDS
from studio.music.song import PPQ

PITCHES = 128
MIN_PX_PER_TICK = 0.0002  # 1,000 bars of 4/4 in 400 px: Zoom to Fit never cuts a song off
MAX_PX_PER_TICK = 2.0     # a 1/32 note ~ 120 px
MIN_KEY_HEIGHT = 4.0
MAX_KEY_HEIGHT = 40.0
SNAP_CHOICES = ("1/1", "1/2", "1/4", "1/8", "1/16", "1/32", "1/4T", "1/8T", "1/16T", "1/32T",
                "Off")


class ViewGeometry(QObject):
    """x = (tick - left_tick) * px_per_tick; y = (127 - pitch) * key_height - top."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.px_per_tick = 0.1      # a quarter note = 48 px
        self.key_height = 12.0
        self.left_tick = 0.0
        self.top = 0.0              # pixels scrolled down from the top of pitch 127
        self.width = 800            # the note canvas size, kept by the canvas
        self.height = 600

    # ---- conversions ----------------------------------------------------------------------------
    def x_of(self, tick: float) -> float:
        return (tick - self.left_tick) * self.px_per_tick

    def tick_at(self, x: float) -> float:
        return self.left_tick + x / self.px_per_tick

    def y_of(self, pitch: float) -> float:
        """The top edge of the row of `pitch`."""
        return (PITCHES - 1 - pitch) * self.key_height - self.top

    def pitch_at(self, y: float) -> int:
        return int(min(PITCHES - 1, max(0, PITCHES - 1 - math.floor((y + self.top)
                                                                    / self.key_height))))

    def visible_ticks(self) -> tuple[float, float]:
        return self.left_tick, self.tick_at(self.width)

    def visible_pitches(self) -> tuple[int, int]:
        """(lowest, highest) pitch with any row on screen."""
        return self.pitch_at(self.height), self.pitch_at(0)

    @property
    def content_height(self) -> float:
        return PITCHES * self.key_height

    # ---- scrolling and zoom ---------------------------------------------------------------------
    def set_left_tick(self, tick: float) -> None:
        tick = max(0.0, float(tick))
        if tick != self.left_tick:
            self.left_tick = tick
            self.changed.emit()

    def set_top(self, top: float) -> None:
        top = min(max(0.0, float(top)), max(0.0, self.content_height - self.height))
        if top != self.top:
            self.top = top
            self.changed.emit()

    def zoom_x(self, factor: float, anchor_x: float | None = None) -> None:
        """Zoom in time by `factor`, keeping the tick under `anchor_x` where it is."""
        anchor_x = self.width / 2 if anchor_x is None else anchor_x
        anchor_tick = self.tick_at(anchor_x)
        ppt = min(MAX_PX_PER_TICK, max(MIN_PX_PER_TICK, self.px_per_tick * factor))
        if ppt != self.px_per_tick:
            self.px_per_tick = ppt
            self.left_tick = max(0.0, anchor_tick - anchor_x / ppt)
            self.changed.emit()

    def zoom_y(self, factor: float, anchor_y: float | None = None) -> None:
        anchor_y = self.height / 2 if anchor_y is None else anchor_y
        rows_from_top = (anchor_y + self.top) / self.key_height
        kh = min(MAX_KEY_HEIGHT, max(MIN_KEY_HEIGHT, self.key_height * factor))
        if kh != self.key_height:
            self.key_height = kh
            self.top = min(max(0.0, rows_from_top * kh - anchor_y),
                           max(0.0, self.content_height - self.height))
            self.changed.emit()

    def show_ticks(self, start: float, end: float) -> None:
        """Zoom and scroll so that [start, end) fills the width."""
        span = max(PPQ, end - start)
        self.px_per_tick = min(MAX_PX_PER_TICK, max(MIN_PX_PER_TICK, self.width / span))
        self.left_tick = max(0.0, float(start))
        self.changed.emit()

    def centre_on_pitch(self, pitch: float) -> None:
        self.set_top(self.y_of(pitch) + self.top - self.height / 2)

    def resize(self, width: int, height: int) -> None:
        if (width, height) != (self.width, self.height):
            self.width, self.height = max(1, width), max(1, height)
            self.top = min(self.top, max(0.0, self.content_height - self.height))
            self.changed.emit()


class Snap(QObject):
    """The snap grid: a name from SNAP_CHOICES and its size in ticks (0 when off)."""

    changed = Signal()

    def __init__(self, name: str = "1/16", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name

    @property
    def ticks(self) -> int:
        return GRIDS.get(self.name, 0)

    def set_name(self, name: str) -> None:
        if name not in SNAP_CHOICES:
            raise ValueError(f"unknown grid {name!r}; choose one of {', '.join(SNAP_CHOICES)}")
        if name != self.name:
            self.name = name
            self.changed.emit()

    def step(self) -> int:
        """One grid step in ticks (a 1/16 note when snapping is off), for arrow keys and lengths."""
        return self.ticks or PPQ // 4

    def round(self, tick: float, enabled: bool = True) -> int:
        g = self.ticks
        if not enabled or g <= 0:
            return int(round(tick))
        return int(round(tick / g) * g)

    def floor(self, tick: float, enabled: bool = True) -> int:
        g = self.ticks
        if not enabled or g <= 0:
            return int(math.floor(tick))
        return int(math.floor(tick / g) * g)
