"""The style map panel: pick datasets, draw their map, run the style critic, add songs.

Datasets are the built-in and user datasets plus any folder of MIDI files the musician adds.
"Draw map" and "Run critic" run on a worker thread (progress bar, Cancel). On the map a click
plays the piece or segment (`window.playback.play_song`), a double-click opens it in the editor
(`window.open_song`); "Add open song" places the song being edited, and `add_songs` places
generated results, on the same map.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from studio.ml.analysis import corpus as corpus_mod
from studio.ml.analysis.critic import LEARNED_CLASSIFIERS, compare_critics, default_plan
from studio.ml.analysis.features import FeatureExtractor, HandcraftedFeatures
from studio.ml.analysis.model_features import (
    FITTED_AUTOENCODER,
    default_learned,
    encoder_models,
    feature_title,
    learned_features,
)
from studio.ml.analysis.style_map import METHOD_TITLES, StyleMap, available_methods, build_style_map
from studio.music.song import Song
from studio.ui.style_map.style_map_colours import COLOUR_MODES
from studio.ui.style_map.style_map_critic import CriticView
from studio.ui.style_map.style_map_plot import StyleMapPlot
from studio.ui.style_map.style_map_worker import AnalysisTaskRunner

if TYPE_CHECKING:
    from studio.ui.main_window import MainWindow

FEATURE_CHOICES = {"invariant": "Hand-crafted (any key)", "absolute": "Hand-crafted (absolute pitch)",
                   "learned": "Learned: autoencoder fitted here"}
MODEL_KEY = "model:"  # a features choice read by a trained model of the library
OPEN_SONG_LABEL = "open song"


def dataset_names() -> list[str]:
    """Built-in datasets, then the user's (when `studio.data` offers a listing)."""
    import studio.data as data

    names = list(data.BUILTIN)
    lister = getattr(data, "list_datasets", None) or getattr(data, "dataset_names", None)
    if callable(lister):
        try:
            names += [getattr(d, "name", d) for d in lister() if getattr(d, "name", d) not in names]
        except Exception:  # a broken user store must not break the map
            pass
    return names


class StyleMapPanel(QWidget):
    def __init__(self, window: MainWindow | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.window_ = window
        self.style_map: StyleMap | None = None
        self.extractors: dict[str, FeatureExtractor] = {}
        self._corpora: dict[tuple[str, int], corpus_mod.Corpus] = {}
        self._added: dict[str, list[tuple[str, Song]]] = {}
        self.runner = AnalysisTaskRunner(self)

        self.sources = QListWidget()
        self.sources.setMaximumHeight(72)
        for name in dataset_names():
            self.add_source(name, checked=name == "jsb")
        add_folder = QPushButton("Add folder…")
        add_folder.clicked.connect(self._choose_folder)
        self.features = QComboBox()
        for key, text in FEATURE_CHOICES.items():
            self.features.addItem(text, key)
        for entry in encoder_models():  # the library's VAEs, autoencoders and RNNs
            self.features.addItem(f"Learned: {feature_title(entry)}", MODEL_KEY + entry.name)
        self.features.setToolTip("What the map and the critic compare: measured features, or "
                                 "what a trained model makes of each melody")
        self.method = QComboBox()
        for m in available_methods():
            self.method.addItem(METHOD_TITLES[m], m)
        self.colour = QComboBox()
        for key, text in COLOUR_MODES.items():
            self.colour.addItem(text, key)
        self.colour.currentIndexChanged.connect(
            lambda: self.plot.set_colour_by(self.colour.currentData()))
        self.bars = QSpinBox(minimum=0, maximum=64, value=4, suffix=" bars", specialValueText="whole")
        self.bars.setToolTip("each point is a segment of this many bars (whole: one per piece)")
        self.limit = QSpinBox(minimum=2, maximum=100000, value=120)
        self.limit.setToolTip("at most this many pieces per dataset, spread evenly")
        self.draw_button = QPushButton("Draw map")
        self.draw_button.clicked.connect(self.draw_map)
        self.critic_button = QPushButton("Run critic")
        self.critic_button.clicked.connect(self.run_critic)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.runner.cancel)
        self.add_song_button = QPushButton("Add open song")
        self.add_song_button.clicked.connect(self.add_open_song)
        self.progress = QProgressBar(maximum=1000, textVisible=True)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.plot = StyleMapPlot()
        self.plot.clicked.connect(self.play_point)
        self.plot.double_clicked.connect(self.open_point)
        self.plot.hovered.connect(self._show_hover)
        self.critic = CriticView()

        top = QHBoxLayout()
        top.addWidget(self.sources, 1)
        top.addWidget(add_folder, 0, Qt.AlignmentFlag.AlignTop)
        # Two label/control pairs per row, so the panel fits a narrow dock.
        options = QGridLayout()
        for i, (label, w) in enumerate((("Features", self.features), ("Map", self.method),
                                        ("Colour", self.colour), ("Points", self.bars),
                                        ("Pieces", self.limit))):
            options.addWidget(QLabel(label), i // 2, (i % 2) * 2)
            options.addWidget(w, i // 2, (i % 2) * 2 + 1)
        options.setColumnStretch(1, 1)
        options.setColumnStretch(3, 1)
        actions = QHBoxLayout()
        for b in (self.draw_button, self.critic_button, self.cancel_button, self.add_song_button):
            actions.addWidget(b)
        actions.addStretch(1)
        self.views = QTabWidget()
        self.views.setDocumentMode(True)
        # Small minimums: the panel lives in a dock beside the piano roll and must not force the
        # window's size; it grows with the dock.
        self.views.setMinimumSize(160, 100)
        self.sources.setMinimumHeight(44)
        for combo in (self.features, self.method, self.colour):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(8)
        self.views.addTab(self.plot, "Map")
        self.views.addTab(self.critic, "Critic")
        layout = QVBoxLayout(self)
        for part in (top, options, actions):
            layout.addLayout(part)
        layout.addWidget(self.progress)
        layout.addWidget(self.views, 1)
        layout.addWidget(self.status)

        self._on_result = None
        self.runner.finished.connect(self._task_finished)
        self.runner.progress.connect(self._on_progress)
        self.runner.failed.connect(lambda m: self._set_status(f"Could not finish: {m}"))
        self.runner.cancelled.connect(lambda: self._set_status("Cancelled."))
        self.runner.running_changed.connect(self._on_running)
        self._on_running(False)

    # ---- sources and options ---------------------------------------------------------------
    def add_source(self, spec: str, checked: bool = True, title: str | None = None) -> None:
        """A dataset name or a folder of MIDI files, as an entry of the list."""
        item = QListWidgetItem(title or spec)
        item.setData(Qt.ItemDataRole.UserRole, spec)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        item.setToolTip(spec)
        self.sources.addItem(item)

    def refresh_sources(self) -> None:
        """Follow the dataset store: list datasets imported (or deleted) since the panel was
        built; folders added by hand and the ticks stay."""
        names = dataset_names()
        listed = {self.sources.item(i).data(Qt.ItemDataRole.UserRole): i
                  for i in range(self.sources.count())}
        for i in sorted((i for spec, i in listed.items()
                         if spec not in names and not Path(spec).is_dir()), reverse=True):
            self.sources.takeItem(i)
        for name in names:
            if name not in listed:
                self.add_source(name, checked=False)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self.refresh_sources()
        super().showEvent(event)

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of MIDI files")
        if folder:
            self.add_source(folder, True, Path(folder).name)

    def checked_sources(self) -> list[str]:
        return [self.sources.item(i).data(Qt.ItemDataRole.UserRole)
                for i in range(self.sources.count())
                if self.sources.item(i).checkState() == Qt.CheckState.Checked]

    def add_extractor(self, extractor: FeatureExtractor) -> None:
        """Offer another representation (e.g. a trained model's code) in the Features menu."""
        self.extractors[extractor.name] = extractor
        self.features.addItem(extractor.name, f"extractor:{extractor.name}")

    @staticmethod
    def _learned_choice(key: str) -> str:
        """The learned features the critic uses beside the hand-crafted ones: the chosen
        model's, the fitted autoencoder's, or (hand-crafted chosen) the default model's."""
        if key.startswith(MODEL_KEY):
            return key[len(MODEL_KEY):]
        return FITTED_AUTOENCODER if key == "learned" else default_learned()

    def _extractor(self, key: str, chosen: Sequence, cancelled) -> FeatureExtractor:
        if key == "learned" or key.startswith(MODEL_KEY):
            return learned_features(self._learned_choice(key), [i.song for i in chosen],
                                    cancel=cancelled)
        if isinstance(key, str) and key.startswith("extractor:"):
            return self.extractors[key.split(":", 1)[1]]
        return HandcraftedFeatures(invariant=key != "absolute")

    # ---- long work ------------------------------------------------------------------------
    def _options(self) -> dict:
        """The choices of the controls, read on the GUI thread for a task to use."""
        return {"specs": self.checked_sources(), "limit": self.limit.value(),
                "bars": self.bars.value(), "features": self.features.currentData(),
                "method": self.method.currentData()}

    def _load_items(self, opts: dict, progress, cancelled, share: float) -> tuple[list, list]:
        specs, limit, bars = opts["specs"], opts["limit"], opts["bars"]
        corpora = []
        for n, spec in enumerate(specs):
            progress(share * n / len(specs), f"reading {Path(spec).name or spec}")
            key = (spec, limit)
            if key not in self._corpora:
                self._corpora[key] = corpus_mod.load_corpus(spec, limit=limit, cancel=cancelled)
            corpora.append(self._corpora[key])
        skipped = [f"{c.label}/{name} ({why})" for c in corpora for name, why in c.skipped]
        chosen = corpus_mod.items(corpora, segment_bars=bars or None, max_per_label=800)
        return chosen, skipped

    def _options_or_warn(self) -> dict | None:
        opts = self._options()
        if not opts["specs"]:
            self._set_status("Tick at least one dataset or folder.")
            return None
        return opts

    def _start(self, task, on_result) -> None:
        self._on_result = on_result
        self._set_status("Working…")
        self.runner.start(task)

    def _task_finished(self, payload) -> None:
        handler, self._on_result = self._on_result, None
        if handler is not None:
            handler(payload)

    def draw_map(self) -> None:
        """Compute the map of the ticked datasets on the worker thread."""
        opts = self._options_or_warn()
        if opts is None:
            return

        def task(progress, cancelled):
            chosen, skipped = self._load_items(opts, progress, cancelled, 0.3)
            extractor = self._extractor(opts["features"], chosen, cancelled)
            m = build_style_map(chosen, extractor, opts["method"], cancel=cancelled,
                                progress=lambda f, t: progress(0.3 + 0.7 * f, t))
            return m, skipped

        self._start(task, self._map_ready)

    def run_critic(self) -> None:
        """Cross-validate the critics on the ticked datasets on the worker thread."""
        opts = self._options_or_warn()
        if opts is None:
            return
        extra = list(self.extractors.values())

        def task(progress, cancelled):
            chosen, skipped = self._load_items(opts, progress, cancelled, 0.2)
            corpus_mod.check_labels(chosen)
            learned = learned_features(self._learned_choice(opts["features"]),
                                       [i.song for i in chosen], cancel=cancelled)
            plan = default_plan(learned)
            plan += [(e, LEARNED_CLASSIFIERS) for e in extra]
            results = compare_critics(chosen, plan, cancel=cancelled,
                                      progress=lambda f, t: progress(0.2 + 0.8 * f, t))
            return results, skipped

        self._start(task, self._critic_ready)

    def _map_ready(self, payload) -> None:
        m, skipped = payload
        self.style_map = m
        for label, songs in self._added.items():
            m.add(songs, label)
        self.plot.set_map(m, self.colour.currentData())
        self.views.setCurrentWidget(self.plot)
        self._report(f"Map drawn: {len(m.items)} points", skipped)

    def _critic_ready(self, payload) -> None:
        results, skipped = payload
        self.critic.set_results(results)
        self.views.setCurrentWidget(self.critic)
        self._report("Critic finished", skipped)

    def _report(self, text: str, skipped: list[str]) -> None:
        if skipped:
            more = f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
            text += f"; skipped {len(skipped)}: {', '.join(skipped[:5])}{more}"
        self._set_status(text)

    def _on_progress(self, fraction: float, text: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        self.progress.setFormat(text)

    def _on_running(self, running: bool) -> None:
        for b in (self.draw_button, self.critic_button):
            b.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        if not running:
            self.progress.setValue(0)
            self.progress.setFormat("")

    def shutdown(self) -> None:
        self.runner.shutdown()

    # ---- songs on the map -----------------------------------------------------------------
    def add_songs(self, named_songs: Sequence[tuple[str, Song]], label: str = "generated") -> None:
        """Place songs (e.g. generated variations) on the map; they stay there when the map is
        redrawn. Songs without notes are skipped."""
        songs = [(n, s) for n, s in named_songs if corpus_mod.has_notes(s)]
        self._added.setdefault(label, []).extend(songs)
        if self.style_map is not None and songs:
            self.style_map.add(songs, label)
            self.plot.redraw()

    def add_open_song(self) -> None:
        song = self.window_.document.song if self.window_ is not None else None
        if song is None or not corpus_mod.has_notes(song):
            self._set_status("The open song has no notes to place on the map.")
            return
        self._added[OPEN_SONG_LABEL] = [(song.title or "Open song", song.copy())]
        if self.style_map is None:
            self._set_status("The open song will appear once the map is drawn.")
            return
        self.style_map.remove_added(OPEN_SONG_LABEL)
        self.style_map.add(self._added[OPEN_SONG_LABEL], OPEN_SONG_LABEL)
        self.plot.redraw()

    def play_point(self, index: int) -> None:
        playback = self.window_.playback if self.window_ is not None else None
        item = self.style_map.items[index] if self.style_map else None
        if item is None:
            return
        if playback is None:
            self._set_status(f"{item.name} (playback is not available)")
            return
        playback.play_song(item.song)
        self._set_status(f"Playing {item.name}")

    def open_point(self, index: int) -> None:
        if self.style_map is None or self.window_ is None:
            return
        item = self.style_map.items[index]
        self.window_.open_song(item.song.copy(keep_ids=False))

    def _show_hover(self, index: int) -> None:
        if index >= 0:
            self._set_status(self.plot.describe(index).replace("\n", " · "))

    def _set_status(self, text: str) -> None:
        self.status.setText(text)
