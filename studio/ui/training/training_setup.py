"""The set-up form of the training panel: what to train, on what, how, where, under which name.

The dataset list comes from `studio.data.dataset_names()` (plus datasets handed over in memory,
e.g. the dataset panel's current one); the model list from the registry
(`studio.ml.registry.model_names()`), so a new family appears without changes here. The model's
settings are a form generated from its config knobs (defaults include the model name's
overrides, which are shown but fixed: the "gru" model is the recurrent family with a GRU cell);
the training settings are the knobs of `TrainConfig`, and the device list is
`studio.ml.device.available_devices()`. Optionally the run is also logged for TensorBoard
(`studio.ml.tensorboard_log`). `job()` turns the form into a `TrainingJob`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from studio import paths
from studio.ml.checkpoint import card_path, weights_path
from studio.ml.device import available_devices, device_label
from studio.ml.errors import ConfigError
from studio.ml.knobs import config_from_dict, config_to_dict, knobs_of
from studio.ml.registry import create_family, model_names
from studio.ml.tensorboard_log import INSTALL_HINT, tensorboard_available
from studio.ml.train_config import TrainConfig
from studio.ui.training.training_form import KnobForm, knob_tooltip
from studio.ui.training.training_start_from import StartFromBox
from studio.ui.training.training_tracks import DatasetTracks
from studio.ui.training.training_worker import TrainingJob

if TYPE_CHECKING:
    from studio.data import Dataset

BAD_NAME = re.compile(r'[/\\:*?"<>|]')


def model_exists(name: str, folder=None) -> bool:
    """Whether the user's library already has model files (or a grid table) called `name`."""
    base = (folder or paths.user_models_dir()) / name
    return weights_path(base).exists() or card_path(base).exists() or \
        base.with_name(name + ".grid.json").exists()


class TrainingSetup(QWidget):
    """The set-up form (see the module docstring)."""

    changed = Signal()
    model_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._memory: dict[str, Dataset] = {}
        self._name_edited = False
        self._started: set[str] = set()  # names of runs started here (files may not exist yet)
        self.dataset_box = QComboBox()
        self.dataset_box.setObjectName("dataset_box")
        self.dataset_box.setToolTip("The music the model learns from: the built-in Bach "
                                    "chorales or a dataset you made in the Dataset panel.")
        self.model_box = QComboBox()
        self.model_box.setObjectName("model_box")
        self.model_box.setToolTip("The kind of model to train; each learns music in its own "
                                  "way and can generate different things.")
        for name, (family, _) in model_names().items():
            self.model_box.addItem(f"{name} — {family.title}", name)
        # start on the melody LSTM: the model most musicians train first (quick to learn, and
        # it writes and continues melodies)
        self.model_box.setCurrentIndex(max(0, self.model_box.findData("lstm")))
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet("color: #8a929e;")
        self.device_box = QComboBox()
        self.device_box.setObjectName("device_box")
        device_knob = next(k for k in knobs_of(TrainConfig) if k.name == "device")
        for device in available_devices():
            self.device_box.addItem(device_label(device), device)
        self.device_box.setToolTip(knob_tooltip(device_knob))
        for box in (self.dataset_box, self.model_box, self.device_box):
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(10)
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("name_edit")
        self.name_edit.setToolTip("The name of the trained model in your library.")
        self.name_edit.textEdited.connect(self._name_typed)

        data_box = QGroupBox("Music and model")
        self.data_form = QFormLayout(data_box)
        self.data_form.addRow("Dataset", self.dataset_box)
        self.data_form.addRow("Model", self.model_box)
        self.data_form.addRow(self.summary)
        self.family_form: KnobForm | None = None
        train_knobs = [k for k in knobs_of(TrainConfig) if k.name != "device"]
        self.training_form = KnobForm(train_knobs)
        self.training_form.setObjectName("training_form")
        train_box = QGroupBox("Training")
        train_layout = QVBoxLayout(train_box)
        train_layout.addWidget(self.training_form)
        device_form = QFormLayout()
        device_form.setContentsMargins(0, 0, 0, 0)
        device_form.addRow("Device", self.device_box)
        device_form.addRow("Save as", self.name_edit)
        self.tensorboard_box = QCheckBox("Also log for TensorBoard in")
        self.tensorboard_box.setObjectName("tensorboard_box")
        self.tensorboard_dir = QLineEdit(str(paths.runs_dir() / "tensorboard"))
        self.tensorboard_dir.setObjectName("tensorboard_dir")
        self.tensorboard_dir.setEnabled(False)
        self.tensorboard_box.toggled.connect(self.tensorboard_dir.setEnabled)
        if tensorboard_available():
            self.tensorboard_box.setToolTip(
                "Write the curves and settings of each run where TensorBoard reads them too "
                "(tensorboard --logdir FOLDER); grid runs compare in its HParams view.")
        else:
            self.tensorboard_box.setEnabled(False)
            self.tensorboard_box.setToolTip(INSTALL_HINT)
        device_form.addRow(self.tensorboard_box, self.tensorboard_dir)
        train_layout.addLayout(device_form)
        self.start_from = StartFromBox()
        self.start_from.setObjectName("start_from")
        self.start_from.parent_changed.connect(self._parent_chosen)
        self.start_from.follow(self.training_form)
        self.family_box = QGroupBox("Model settings")
        self.family_layout = QVBoxLayout(self.family_box)
        self.track_hint = QLabel()
        self.track_hint.setObjectName("track_hint")
        self.track_hint.setWordWrap(True)
        self.track_hint.setStyleSheet("color: #8a929e;")
        self.track_hint.setVisible(False)
        self.family_layout.addWidget(self.track_hint)
        self.tracks = DatasetTracks(self.track_hint, self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(data_box)
        layout.addWidget(self.start_from)
        layout.addWidget(self.family_box)
        layout.addWidget(train_box)
        layout.addStretch(1)
        self.refresh_datasets()
        self.model_box.currentIndexChanged.connect(self._model_chosen)
        self.dataset_box.currentIndexChanged.connect(self._suggest_name)
        self.dataset_box.currentIndexChanged.connect(self._refresh_tracks)
        self.training_form.changed.connect(self.changed)
        self._model_chosen()

    # -- datasets -------------------------------------------------------------------------------
    def refresh_datasets(self) -> None:
        """List the datasets again (after an import), keeping the current choice."""
        from studio.data import dataset_names

        current = self.dataset_name
        self.dataset_box.blockSignals(True)
        self.dataset_box.clear()
        try:
            names = dataset_names()
        except Exception:  # an unreadable store must not take the panel down
            names = ["jsb"]
        for name in [*names, *(n for n in self._memory if n not in names)]:
            self.dataset_box.addItem(name, name)
        self.dataset_box.blockSignals(False)
        if current:
            self.select_dataset(current)
        self._suggest_name()

    def add_dataset(self, dataset: Dataset, *, select: bool = True) -> None:
        """Offer a dataset held in memory (e.g. a subset made elsewhere) and select it."""
        self._memory[dataset.name] = dataset
        if self.dataset_box.findData(dataset.name) < 0:
            self.dataset_box.addItem(dataset.name, dataset.name)
        if select:
            self.select_dataset(dataset.name)

    def select_dataset(self, name: str) -> None:
        index = self.dataset_box.findData(name)
        if index >= 0:
            self.dataset_box.setCurrentIndex(index)

    @property
    def dataset_name(self) -> str:
        return self.dataset_box.currentData() or ""

    def dataset(self) -> str | Dataset:
        """The chosen dataset: the object if held in memory, else its name (loaded later)."""
        return self._memory.get(self.dataset_name, self.dataset_name)

    # -- model ----------------------------------------------------------------------------------
    @property
    def model_name(self) -> str:
        return self.model_box.currentData()

    def select_model(self, name: str) -> None:
        index = self.model_box.findData(name)
        if index < 0:
            raise ConfigError(f"no model called {name!r} here")
        self.model_box.setCurrentIndex(index)

    def _model_chosen(self, *_) -> None:
        name = self.model_name
        family_class, overrides = model_names()[name]
        defaults = config_to_dict(create_family(name).config)
        if self.family_form is not None:
            self.family_layout.removeWidget(self.family_form)
            self.family_form.hide()  # gone at once, deleted when Qt is done with it
            self.family_form.deleteLater()
        self.family_form = KnobForm(knobs_of(family_class.Config), defaults, fixed=overrides)
        self.family_form.setObjectName("family_form")
        self.family_form.changed.connect(self.changed)
        self.family_layout.insertWidget(0, self.family_form)
        self.family_box.setTitle(f"{name} settings")
        self.summary.setText(family_class.summary)
        self._follow_voices()
        self.start_from.refresh(name)
        self._refresh_tracks()
        self._suggest_name()
        self.model_changed.emit(name)
        self.changed.emit()

    def _follow_voices(self) -> None:
        """A melody model's melody track setting counts only when it learns the melody track
        (voices "melody"): enabled then, greyed out otherwise."""
        controls = self.family_form.controls
        voices, track = controls.get("voices"), controls.get("melody_track")
        if voices is None or track is None:
            return

        def follow(*_) -> None:
            track.setEnabled(self.family_form.values()["voices"] == "melody")

        def changed(*_) -> None:
            follow()
            self._refresh_tracks()  # the dataset's track names, now that they matter

        voices.currentIndexChanged.connect(changed)
        follow()

    def _refresh_tracks(self, *_) -> None:
        if self.family_form is not None and self.dataset_name:
            self.tracks.refresh(self.dataset(), self.family_form)

    def shutdown(self) -> None:
        """Wait for the reading of track names (the panel is closing)."""
        self.tracks.shutdown()

    def _parent_chosen(self, entry: Any) -> None:
        """A parent fixes the model settings to its own and suggests fine-tuning defaults."""
        if self.family_form is None:
            return
        if entry is None:
            self.family_form.setEnabled(True)
        else:
            from studio.ml.finetune import fine_tune_defaults

            self.family_form.set_values(entry.card.get("config", {}))
            self.family_form.setEnabled(False)
            self.training_form.set_values(fine_tune_defaults(entry.card.get("training", {})))
        self.changed.emit()

    # -- settings and name ----------------------------------------------------------------------
    def family_settings(self) -> dict[str, Any]:
        return self.family_form.values()

    def set_family_settings(self, values: dict[str, Any]) -> None:
        self.family_form.set_values(values)

    def set_training(self, values: dict[str, Any]) -> None:
        self.training_form.set_values({k: v for k, v in values.items() if k != "device"})
        if "device" in values:
            index = self.device_box.findData(values["device"])
            if index >= 0:
                self.device_box.setCurrentIndex(index)

    def train_config(self) -> TrainConfig:
        """The training settings as a checked `TrainConfig` (raises `ConfigError`)."""
        values = {**self.training_form.values(), "device": self.device_box.currentData()}
        return config_from_dict(TrainConfig, values)

    def _name_typed(self, text: str) -> None:
        self._name_edited = bool(text.strip())

    def _suggest_name(self, *_) -> None:
        if not self._name_edited and self.model_box.count():
            self.name_edit.setText(self.free_name())

    def free_name(self) -> str:
        """`MODEL-DATASET`, numbered so that no model of the library has that name."""
        base = f"{self.model_name}-{self.dataset_name or 'data'}"
        name, n = base, 1
        while model_exists(name) or name in self._started:
            n += 1
            name = f"{base}-{n}"
        return name

    def after_start(self, name: str) -> None:
        """A run called `name` started: suggest a fresh name for the next one."""
        self._started.add(name)
        self._name_edited = False
        self._suggest_name()

    def job(self, grid: dict[str, list[Any]] | None = None) -> TrainingJob:
        """The form as a job; raises `ConfigError` with a message for the user."""
        name = self.name_edit.text().strip()
        if not name or BAD_NAME.search(name) or name.startswith("."):
            raise ConfigError(f"{name!r} cannot be a model name: use letters, digits and "
                              "dashes")
        if model_exists(name) or name in self._started:
            raise ConfigError(f"a model called {name} is already in your library; choose "
                              "another name")
        if not self.dataset_name:
            raise ConfigError("choose a dataset to train on")
        settings = self.family_settings()
        create_family(self.model_name, settings)  # checks every value
        tensorboard = None
        if self.tensorboard_box.isChecked():
            folder = self.tensorboard_dir.text().strip()
            if not folder:
                raise ConfigError("choose a folder for the TensorBoard logs")
            tensorboard = Path(folder).expanduser()
        return TrainingJob(self.model_name, settings, self.train_config(), self.dataset(), name,
                           grid=grid, tensorboard=tensorboard,
                           parent=self.start_from.parent_name, freeze=self.start_from.freeze,
                           compare_scratch=self.start_from.compare_scratch and grid is None)
