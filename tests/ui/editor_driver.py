"""Driving the real piano roll in tests: a window with a known song and a known view, the pixel
of a (tick, pitch), and mouse drags made of QTest events."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from studio.music.song import Note, Song, Track
from studio.ui.main_window import MainWindow

PX_PER_TICK = 0.1      # a quarter note (480 ticks) = 48 px
KEY_HEIGHT = 12.0


def known_song() -> Song:
    """Two tracks: a C major arpeggio in quarters (piano) and two long bass notes."""
    piano = Track("Piano", program=0, channel=0, notes=[
        Note(60, 0, 480, 100), Note(64, 480, 480, 90), Note(67, 960, 480, 80),
        Note(72, 1440, 480, 70)])
    bass = Track("Bass", program=33, channel=1, notes=[Note(48, 0, 960, 110),
                                                      Note(43, 960, 960, 60)])
    return Song([piano, bass], title="Known")


def make_window(qtbot, tmp_path, song: Song | None = None, **kw) -> MainWindow:
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, **kw)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    window.open_song(song if song is not None else known_song())
    set_view(window.piano_roll)
    window.activateWindow()
    qtbot.waitActive(window)
    window.piano_roll.canvas.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.piano_roll.canvas)
    return window


def set_view(roll, left_tick: float = 0.0, top_pitch: int = 80) -> None:
    """A fixed zoom and scroll: pitch `top_pitch` in the first row."""
    g = roll.geom
    g.px_per_tick, g.key_height = PX_PER_TICK, KEY_HEIGHT
    g.left_tick = left_tick
    g.top = (127 - top_pitch) * KEY_HEIGHT
    g.changed.emit()


def at(roll, tick: float, pitch: int, dx: float = 0) -> QPoint:
    """The canvas pixel inside the row of `pitch` at `tick` (+dx pixels)."""
    g = roll.geom
    return QPoint(round(g.x_of(tick) + dx), round(g.y_of(pitch) + g.key_height / 2))


def drag(widget, start: QPoint, end: QPoint, modifiers=Qt.KeyboardModifier.NoModifier,
         button=Qt.MouseButton.LeftButton, steps: int = 4) -> None:
    """Press at `start` (holding `modifiers`), move in steps, release at `end`."""
    QTest.mousePress(widget, button, modifiers, start)
    for i in range(1, steps + 1):
        p = start + (end - start) * (i / steps)
        QTest.mouseMove(widget, QPoint(round(p.x()), round(p.y())))
    QTest.mouseRelease(widget, button, modifiers, end)


def click(widget, pos: QPoint, modifiers=Qt.KeyboardModifier.NoModifier,
          button=Qt.MouseButton.LeftButton) -> None:
    QTest.mouseClick(widget, button, modifiers, pos)


def snapshot(song: Song):
    """Everything an edit can change, ids included: equal snapshots = the exact same song."""
    return ([(t.id, t.name, t.program, t.is_drum, t.channel,
              sorted((n.id, n.pitch, n.start, n.duration, n.velocity) for n in t.notes))
             for t in song.tracks], list(song.tempos), list(song.time_signatures),
            list(song.key_signatures), song.title)


def notes_of(track: Track) -> list[tuple[int, int, int, int]]:
    """(pitch, start, duration, velocity) sorted."""
    return sorted((n.pitch, n.start, n.duration, n.velocity) for n in track.notes)
