"""The transport bar: play/stop, record (with count-in and quantize-on-input menu), loop, tempo,
position (bar:beat and time), the output in use, and a panic button; Space plays and stops from
anywhere in the window."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QColor,
    QFont,
    QIcon,
    QKeySequence,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import QDoubleSpinBox, QLabel, QMenu, QStyle, QToolBar, QToolButton, QWidget

from studio.music.operations import GRIDS
from studio.music.timing import TempoMap, bar_beat
from studio.ui.playback.playback_controller import Playback

QUANTIZE_CHOICES = [("Off", 0), ("1/4", GRIDS["1/4"]), ("1/8", GRIDS["1/8"]),
                    ("1/16", GRIDS["1/16"]), ("1/8 triplet", GRIDS["1/8T"])]


def _icon(draw, size: int = 32) -> QIcon:
    pix = QPixmap(size, size)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    draw(p, size)
    p.end()
    return QIcon(pix)


def record_icon() -> QIcon:
    def draw(p: QPainter, s: int) -> None:
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(210, 40, 40))
        p.drawEllipse(s * 0.22, s * 0.22, s * 0.56, s * 0.56)
    return _icon(draw)


def loop_icon() -> QIcon:
    def draw(p: QPainter, s: int) -> None:
        pen = QPen(QColor(60, 120, 200), s * 0.09)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        p.setPen(pen)
        path = QPainterPath()
        path.addRoundedRect(s * 0.18, s * 0.3, s * 0.64, s * 0.4, s * 0.2, s * 0.2)
        p.drawPath(path)
        p.setBrush(QColor(60, 120, 200))
        p.setPen(Qt.PenStyle.NoPen)
        tip = QPainterPath()
        tip.moveTo(s * 0.62, s * 0.18)
        tip.lineTo(s * 0.78, s * 0.3)
        tip.lineTo(s * 0.62, s * 0.42)
        p.drawPath(tip)
    return _icon(draw)


class TransportBar(QObject):
    """Fills `toolbar` with transport controls wired to `playback`; `window` gets Space."""

    def __init__(self, toolbar: QToolBar, playback: Playback, window: QWidget) -> None:
        super().__init__(toolbar)
        self.toolbar = toolbar
        self.playback = playback
        self.window_ = window
        style = toolbar.style()
        self._play_icon = style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay)
        self._stop_icon = style.standardIcon(QStyle.StandardPixmap.SP_MediaStop)
        toolbar.setIconSize(QSize(22, 22))

        self.play_action = QAction(self._play_icon, "Play", window)
        self.play_action.setShortcut(QKeySequence(Qt.Key.Key_Space))
        self.play_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.play_action.setToolTip("Play / stop (Space)")
        self.play_action.triggered.connect(playback.toggle)
        window.addAction(self.play_action)  # Space works wherever the focus is in the window
        toolbar.addAction(self.play_action)

        self.record_action = QAction(record_icon(), "Record", window)
        self.record_action.setCheckable(True)
        self.record_action.setToolTip("Record from the MIDI input into the current track")
        self.record_action.triggered.connect(self._record_clicked)
        toolbar.addAction(self.record_action)
        button = toolbar.widgetForAction(self.record_action)
        if isinstance(button, QToolButton):
            button.setMenu(self._record_menu(window))
            button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)

        self.loop_action = QAction(loop_icon(), "Loop", window)
        self.loop_action.setCheckable(True)
        self.loop_action.setToolTip("Loop the piano roll's loop region (or the whole song)")
        self.loop_action.toggled.connect(playback.set_loop_enabled)
        toolbar.addAction(self.loop_action)
        toolbar.addSeparator()

        self.tempo = QDoubleSpinBox(toolbar)
        self.tempo.setRange(10.0, 999.0)
        self.tempo.setDecimals(1)
        self.tempo.setPrefix("♩ = ")
        self.tempo.setKeyboardTracking(False)  # apply on Enter / arrows, not every keystroke
        self.tempo.setFocusPolicy(Qt.FocusPolicy.ClickFocus)  # the window never starts in it
        self.tempo.setToolTip("Tempo in quarter notes per minute (an undoable edit)")
        self.tempo.valueChanged.connect(self._tempo_edited)
        self.tempo.installEventFilter(self)
        self.tempo.lineEdit().installEventFilter(self)
        toolbar.addWidget(self.tempo)

        self.position = QLabel(toolbar)
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.position.setFont(mono)
        self.position.setMinimumWidth(150)
        self.position.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.position.setToolTip("Position: bar:beat and time")
        toolbar.addWidget(self.position)

        self.panic_action = QAction("Panic", window)
        self.panic_action.setToolTip("All notes off on every channel (stops stuck notes)")
        self.panic_action.triggered.connect(playback.panic)
        toolbar.addAction(self.panic_action)

        self.output_label = QLabel(toolbar)
        self.output_label.setStyleSheet("color: palette(mid); padding-left: 8px;")
        toolbar.addWidget(self.output_label)

        playback.playing_changed.connect(self._playing_changed)
        playback.recording_changed.connect(self.record_action.setChecked)
        playback.position_changed.connect(self.show_position)
        playback.output_changed.connect(self._output_changed)
        doc = playback.document
        if doc is not None:
            doc.changed.connect(self._song_changed)
            doc.song_replaced.connect(lambda: self._song_changed(replaced=True))
        self._song_changed()
        self._output_changed(playback.player.output.name)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt name)
        """Space in the tempo box plays/stops instead of typing a space (tempos have none);
        Enter (the tempo is set) and Escape give the keyboard back to the piano roll, so Space,
        Q or Delete act on the music again."""
        if event.type() == QEvent.Type.ShortcutOverride and event.key() == Qt.Key.Key_Space:
            return True  # not accepted: the window's Space shortcut runs
        if event.type() == QEvent.Type.KeyPress and event.key() in (
                Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Escape):
            if event.key() == Qt.Key.Key_Escape:   # the tempo the song has, not the one typed
                self._song_changed(replaced=True)
            QTimer.singleShot(0, self._focus_back)   # after the box has taken the value
        return False

    def _focus_back(self) -> None:
        roll = getattr(self.window_, "piano_roll", None)
        target = getattr(roll, "canvas", None)
        if target is not None and self.tempo.hasFocus():
            target.setFocus(Qt.FocusReason.OtherFocusReason)

    def _record_menu(self, parent: QWidget) -> QMenu:
        menu = QMenu(parent)
        menu.addSection("Count-in")
        group = QActionGroup(menu)
        for bars, text in ((0, "None"), (1, "1 bar"), (2, "2 bars")):
            a = menu.addAction(text)
            a.setCheckable(True)
            a.setChecked(bars == self.playback.count_in_bars)
            a.triggered.connect(lambda _=False, b=bars: self.playback.set_count_in(b))
            group.addAction(a)
        menu.addSection("Quantize input")
        group = QActionGroup(menu)
        for text, ticks in QUANTIZE_CHOICES:
            a = menu.addAction(text)
            a.setCheckable(True)
            a.setChecked(ticks == self.playback.quantize_ticks)
            a.triggered.connect(lambda _=False, t=ticks: self.playback.set_quantize_input(t))
            group.addAction(a)
        return menu

    def _record_clicked(self, checked: bool) -> None:
        if checked:
            self.record_action.setChecked(self.playback.record())
        else:
            self.playback.stop()

    def _playing_changed(self, playing: bool) -> None:
        self.play_action.setIcon(self._stop_icon if playing else self._play_icon)
        self.play_action.setText("Stop" if playing else "Play")

    def _output_changed(self, name: str) -> None:
        self.output_label.setText(f"→ {name}")

    def _tempo_edited(self, qpm: float) -> None:
        if abs(qpm - self.playback.tempo()) > 1e-6:
            self.playback.set_tempo(qpm)

    def _song_changed(self, replaced: bool = False) -> None:
        song = self.playback.document.song if self.playback.document else self.playback.song
        if song is not None and (replaced or not self.tempo.hasFocus()):
            self.tempo.blockSignals(True)
            self.tempo.setValue(song.tempos[0].qpm if song.tempos else 120.0)
            self.tempo.blockSignals(False)
        self.show_position(self.playback.position)

    def show_position(self, tick: int) -> None:
        song = self.playback.song
        sigs = song.time_signatures if song is not None else []
        bar, beat, _ = bar_beat(max(0, tick), sigs)
        seconds = TempoMap(song.tempos if song is not None else []).seconds(max(0, tick))
        minutes, secs = divmod(seconds, 60)
        self.position.setText(f"{bar:3d}:{beat}   {int(minutes)}:{secs:04.1f}")
