"""The Generation panel: choose what to generate (mode), with which model, how (the mode's form
and the sampling settings); Generate runs on a worker thread with progress and Cancel while the
editor stays usable; the variations are listed as they arrive, to audition, accept (one undo
step) or discard.

The core (`studio.ml.generation`) gets a copy of the song, so the musician may keep editing.
Accepting checks that the music the variations were made from is still there unchanged and that
the edit still fits; otherwise it says so and changes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from studio.ui.generation.form_classes import FORM_CLASSES
from studio.ui.generation.generation_candidates import CandidateList
from studio.ui.generation.generation_forms import MODE_TITLES, MissingInput, ModeForm
from studio.ui.generation.generation_inputs import SamplingForm, shrinkable
from studio.ui.generation.generation_models import ModelCatalog, ModelCombo
from studio.ui.generation.generation_session import GenerationSession
from studio.ui.generation.generation_worker import GenerationRunner

if TYPE_CHECKING:
    from studio.ui.main_window import MainWindow

FORMS = {cls.mode: cls for cls in FORM_CLASSES}
GENERATE_LABELS = {"harmonize": "Harmonize", "accompany": "Accompany",
                   "melody": "Generate melody", "pop-infill": "Fill in",
                   "continue": "Continue", "infill": "Fill in", "interpolate": "Interpolate"}


class _FormStack(QStackedWidget):
    """A stack as tall as its current page (not its tallest one)."""

    def sizeHint(self):  # noqa: N802 (Qt name)
        return self.currentWidget().sizeHint() if self.currentWidget() else super().sizeHint()

    def minimumSizeHint(self):  # noqa: N802 (Qt name)
        page = self.currentWidget()
        return page.minimumSizeHint() if page else super().minimumSizeHint()


class GenerationPanel(QWidget):
    def __init__(self, window: MainWindow, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.window_ = window
        self.catalog = ModelCatalog(self)
        self.runner = GenerationRunner(self)
        self.session: GenerationSession | None = None   # the run the listed variations are from
        self._accepted_at: int | None = None   # undo index just after the accepted variation
        self._pending_model: str | None = None
        self._engaged = False   # the musician has shown interest: models may be loaded ahead
        self._auditioning = False
        self._build()
        self._refresh_timer = QTimer(self, singleShot=True, interval=60)
        self._refresh_timer.timeout.connect(self.refresh_forms)
        self._connect()
        self.set_mode("harmonize")
        self.catalog.start()

    # ---- layout --------------------------------------------------------------------------------
    def _build(self) -> None:
        self.mode_combo = shrinkable(QComboBox())
        self.mode_combo.setObjectName("mode_combo")
        self.forms: dict[str, ModeForm] = {}   # built when their mode is first chosen
        self.form_stack = _FormStack()
        for cls in FORM_CLASSES:
            self.mode_combo.addItem(MODE_TITLES[cls.mode], cls.mode)
        self.model_combo = ModelCombo(self.catalog)
        self.sampling = SamplingForm()
        sampling_box = QGroupBox("Sampling")
        QVBoxLayout(sampling_box).addWidget(self.sampling)
        self.generate_button = QPushButton("Generate")
        self.generate_button.setObjectName("generate_button")
        self.generate_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.setFormat("")
        self.message = QLabel()
        self.message.setObjectName("generation_message")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.candidates = CandidateList()

        top = QWidget()
        form = QFormLayout()
        form.addRow("Mode", self.mode_combo)
        form.addRow("Model", self.model_combo)
        self.model_warning = QLabel()   # the chosen model's card says it is undertrained
        self.model_warning.setObjectName("model_warning")
        self.model_warning.setWordWrap(True)
        self.model_warning.setStyleSheet("color: #c77700;")
        self.model_warning.hide()
        form.addRow(self.model_warning)
        buttons = QHBoxLayout()
        buttons.addWidget(self.generate_button, 1)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(top)
        layout.addLayout(form)
        layout.addWidget(self.form_stack)
        layout.addWidget(sampling_box)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(top)
        scroll.setMinimumHeight(120)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(scroll)
        splitter.addWidget(self.candidates)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setChildrenCollapsible(False)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.addWidget(splitter)
        self.setMinimumWidth(160)   # the window must still fit an 800-pixel-wide screen

    def _connect(self) -> None:
        self.mode_combo.currentIndexChanged.connect(
            lambda _: self.set_mode(self.mode_combo.currentData()))
        self.model_combo.currentIndexChanged.connect(self._model_changed)
        self.generate_button.clicked.connect(self.generate)
        self.cancel_button.clicked.connect(self.cancel)
        self.catalog.loaded.connect(self._models_loaded)
        self.catalog.failed.connect(lambda m: (self.show_message(m, error=True),
                                               self.model_combo.refill()))
        self.runner.candidate_ready.connect(self._candidate_ready)
        self.runner.progress.connect(self._progress)
        self.runner.finished.connect(self._finished)
        self.runner.failed.connect(self._failed)
        self.runner.cancelled.connect(self._cancelled)
        self.runner.running_changed.connect(lambda _: self._sync_buttons())
        self.candidates.play_requested.connect(self.audition)
        self.candidates.stop_requested.connect(self.stop_audition)
        self.candidates.accept_requested.connect(self.accept)
        self.candidates.discard_requested.connect(self.discard)
        self.candidates.map_requested.connect(self.show_on_style_map)
        self.candidates.table.itemSelectionChanged.connect(self._show_ghost)
        document = self.window_.document
        for signal in (document.changed, document.selection_changed,
                       document.track_flags_changed):
            signal.connect(self._refresh_timer.start)
        document.song_replaced.connect(self._song_replaced)
        document.undo_stack.indexChanged.connect(self._undo_index_changed)
        playback = self.window_.playback
        if playback is not None:
            playback.playing_changed.connect(self._playing_changed)
        # a range dragged on the ruler changes what the forms say
        self.window_.piano_roll.ruler.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.MouseButtonRelease:
            self._refresh_timer.start()
        return False

    # ---- mode and model ------------------------------------------------------------------------
    def mode(self) -> str:
        return str(self.mode_combo.currentData())

    def set_mode(self, mode: str) -> None:
        if mode not in FORMS:
            raise ValueError(f"unknown generation mode {mode!r}")
        index = self.mode_combo.findData(mode)
        if self.mode_combo.currentIndex() != index:
            self.mode_combo.setCurrentIndex(index)  # comes back here through the signal
            return
        if self.form_stack.currentWidget() is not None:
            self.show_message("")   # what was said was about the other mode
        form = self.forms.get(mode)
        if form is None:
            form = self.forms[mode] = FORMS[mode]()
            self.form_stack.addWidget(form)
        self.form_stack.setCurrentWidget(form)
        self.form_stack.updateGeometry()
        self.sampling.show_iterations(mode in ("harmonize", "infill"))
        self.sampling.form.setRowVisible(self.sampling.count, mode != "interpolate")
        self.generate_button.setText(GENERATE_LABELS[mode])
        self.model_combo.set_mode(mode)
        form.refresh(self.window_)
        self._sync_buttons()

    def select_model(self, name: str) -> bool:
        """Choose a library model (switching to a mode it can do when the current one is not).
        Called by the training panel's "use for generation"."""
        self._engaged = True
        dock = self.window_.docks.get("Generation")
        if dock is not None:
            dock.show()
            dock.raise_()
        if not self.catalog.ready:
            self._pending_model = name
            self.show_message(f"{name} will be selected once the models are loaded.")
            return True
        modes = self.catalog.modes_of(name)
        if modes is None:
            self.show_message(f"There is no model called {name} in the library.", error=True)
            return False
        usable = [m for m in modes if m in FORMS]
        if not usable:
            self.show_message(f"{name} cannot generate music: its model card lists no "
                              "generation mode.", error=True)
            return False
        if self.mode() not in usable:
            self.set_mode(usable[0])
        self.model_combo.refill(select=name)
        self.show_message(f"{name} is ready: {MODE_TITLES[self.mode()].lower()}.")
        return self.model_combo.model_name() == name

    def prepare(self) -> None:
        """The musician is about to generate (the demo opened, the mouse came into the panel):
        load the chosen model now, on the worker thread. Until then Studio starts without
        spending seconds on models nobody may use."""
        self._engaged = True
        self.catalog.warm(self.model_combo.model_ref())

    def enterEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self.prepare()
        super().enterEvent(event)

    def _model_changed(self) -> None:
        if self._engaged:
            self.catalog.warm(self.model_combo.model_ref())
        warning = self.model_combo.warning()
        self.model_warning.setText(warning)
        self.model_warning.setVisible(bool(warning))
        self._sync_buttons()

    def _models_loaded(self) -> None:
        self.model_combo.refill(prefer_default=True)
        if self._pending_model:
            name, self._pending_model = self._pending_model, None
            self.select_model(name)
        self._sync_buttons()

    # ---- generating ----------------------------------------------------------------------------
    def generate(self) -> bool:
        """Start generating from the form; False (with the reason shown) when it cannot."""
        if self.runner.is_running():
            return False
        model = self.model_combo.model_ref()
        if model is None:
            self.show_message(self.model_combo.currentText() if self.catalog.ready
                              else "The models are still loading.", error=True)
            return False
        form = self.forms[self.mode()]
        try:
            fields = form.fields(self.window_)
        except MissingInput as e:
            self.show_message(str(e), error=True)
            return False
        self.stop_audition()
        self.session = GenerationSession.start(self.window_, self.mode(), model, fields,
                                               self.sampling.options())
        self.candidates.clear()
        self.progress.setValue(0)
        self.progress.setFormat("Starting…")
        self.show_message("")
        self.runner.start(self.session.request)
        return True

    def cancel(self) -> None:
        if self.runner.cancel():
            self.progress.setValue(0)
            self.progress.setFormat("")

    def shutdown(self) -> None:
        """Stop generating and wait for the threads (the window is closing)."""
        self.runner.shutdown()
        self.catalog.wait()

    def _candidate_ready(self, candidate) -> None:
        self.candidates.add(candidate)
        count = len(self.candidates.candidates)
        self.show_message(f"{count} variation{'s' if count > 1 else ''} ready: play them, "
                          "then accept the one you like.")

    def _progress(self, fraction: float, text: str) -> None:
        self.progress.setValue(round(max(0.0, min(1.0, fraction)) * 1000))
        self.progress.setFormat(text or "%p%")

    def _finished(self, candidates: list) -> None:
        for c in candidates:   # any the core did not hand over one by one
            if int(c.index) not in self.candidates.candidates:
                self.candidates.add(c)
        self.progress.setValue(1000)
        self.progress.setFormat("Done")
        n = len(self.candidates.candidates)
        if n == 0:
            self.show_message("The model produced nothing; try again or change the settings.",
                              error=True)
        else:
            self.show_message(f"{n} variation{'s' if n > 1 else ''}: select one and press Play; "
                              "Accept puts it into the song.")

    def _failed(self, message: str) -> None:
        self.progress.setValue(0)
        self.progress.setFormat("")
        self.show_message(message, error=True)

    def _cancelled(self) -> None:
        n = len(self.candidates.candidates)
        self.show_message("Cancelled" + (f"; the {n} variation{'s' if n > 1 else ''} made so "
                                         "far are kept." if n else "."))

    # ---- the variations ------------------------------------------------------------------------
    def audition(self, candidate) -> None:
        playback = self.window_.playback
        if playback is None:
            self.show_message("Playback is not available.", error=True)
            return
        start = self.session.audition_start(candidate) if self.session else 0
        self._auditioning = True
        playback.play_song(candidate.preview, start)
        self.candidates.set_playing(bool(playback.is_playing))

    def stop_audition(self) -> None:
        playback = self.window_.playback
        if self._auditioning and playback is not None:
            playback.stop()
        self._auditioning = False
        self.candidates.set_playing(False)

    def _playing_changed(self, playing: bool) -> None:
        if not playing:
            self._auditioning = False
        self.candidates.set_playing(playing and self._auditioning)

    def accept(self, candidate) -> bool:
        """Put the variation into the song as one undo step, unless it no longer fits."""
        if self.session is None:
            return False
        if self.candidates.accepted == candidate.index:
            self.show_message("This variation is already in the song (Ctrl+Z takes it out).",
                              error=True)
            return False
        stack = self.window_.document.undo_stack
        # Accepting another variation right after one was accepted swaps them: the one in the
        # song makes way (its step is undone), so trying variation 2 after 1 needs no Ctrl+Z.
        swapped = self.candidates.accepted is not None and self._accepted_at == stack.index()
        previous = self.candidates.accepted
        if swapped:
            stack.undo()
        problem = self.session.apply(self.window_.document, candidate)
        if problem:
            if swapped:   # the earlier variation goes back in
                stack.redo()
                self._accepted_at = stack.index()
                self.candidates.mark_accepted(previous)
            self.show_message(problem, error=True)
            return False
        self.stop_audition()
        self.window_.piano_roll.set_ghost(None)   # it is in the song now
        self.candidates.mark_accepted(candidate.index)
        self._accepted_at = self.window_.document.undo_stack.index()
        text = f"Variation {candidate.index + 1} is in the song. Ctrl+Z takes it out again."
        self.show_message(text)
        self.window_.show_status(text)
        return True

    def _undo_index_changed(self, index: int) -> None:
        accepted_at, accepted = self._accepted_at, self.candidates.accepted
        if accepted_at is not None and index < accepted_at:
            self._accepted_at = None
            self.candidates.mark_accepted(None)
            if accepted is not None:   # what the panel said ("... is in the song") is over
                self.show_message(f"Variation {accepted + 1} was taken out of the song (undo); "
                                  "Accept puts it back.")

    def _show_ghost(self) -> None:
        """The selected variation, as ghost notes in the piano roll, before it enters the song."""
        c = self.candidates.current()
        self.window_.piano_roll.set_ghost(None if c is None else c.preview,
                                          "" if c is None else f"variation {c.index + 1}")

    def discard(self) -> None:
        self.window_.piano_roll.set_ghost(None)
        self.stop_audition()
        self.runner.cancel()
        self.candidates.clear()
        self.session = None
        self._accepted_at = None
        self.progress.setValue(0)
        self.progress.setFormat("")
        self.show_message("")

    def show_on_style_map(self, candidates: list) -> None:
        style_map = self.window_.style_map
        if style_map is None:
            self.show_message("The style map is not available.", error=True)
            return
        style_map.add_songs([(f"Variation {c.index + 1}", c.preview) for c in candidates],
                            label="generated")
        self.show_message("The variations are on the style map (Dataset dock).")

    # ---- following the editor ------------------------------------------------------------------
    def _song_replaced(self) -> None:
        """Another song was opened: variations of the old one cannot go into it."""
        running = self.runner.is_running()
        if running or self.candidates.candidates:
            self.discard()
        # what was said and chosen was about the old song (a drum track refused, a time range)
        self.show_message("Generation stopped: another song was opened." if running else "")
        for form in self.forms.values():
            form.reset()
        self.refresh_forms()

    def refresh_forms(self) -> None:
        self.forms[self.mode()].refresh(self.window_)

    def show_message(self, text: str, error: bool = False) -> None:
        if text:
            text = text[0].upper() + text[1:]   # the core's messages start in lower case
        self.message.setText(text)
        self.message.setProperty("error", error)
        self.message.setStyleSheet("color: #d9534f;" if error else "")

    def _sync_buttons(self) -> None:
        running = self.runner.is_running()
        self.generate_button.setEnabled(not running and self.model_combo.model_name() is not None)
        self.cancel_button.setEnabled(running)
        self.progress.setVisible(running)   # when idle, the message below says how it went
