"""Track choices in the training set-up: for a model that learns one track from another (the pop
accompanist: melody and accompaniment), the track settings offer the track names of the chosen
dataset's songs, read off the GUI thread (`studio.data.track_names`), and a setting that names no
track of these songs is set to the likeliest one (a track called "Lead Vocal" for the melody,
"Keys" for the accompaniment), so that a musician's own folder trains without typing names.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QLabel

from studio.data.track_names import TrackName, matches, track_names
from studio.ui.jobs import JobRunner, JobThread

if TYPE_CHECKING:
    from studio.data import Dataset
    from studio.ui.training.training_form import KnobForm

# What a track called so is likely to be, by setting (the first pattern that a name matches)
GUESSES = {
    "melody_track": r"melod|lead|vocal|voice|sing|tune|theme|solo",
    "accompaniment_track": r"piano|keys|key\b|acc|comp|guitar|chord|pad|organ|rhodes",
}


class TrackNamesRunner(JobRunner):
    unexpected = "Reading the dataset's tracks failed unexpectedly"
    shutdown_wait_ms = 10_000


class DatasetTracks(QObject):
    """Fills the track boxes of the current model form with the dataset's track names."""

    def __init__(self, hint: QLabel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.hint = hint
        self.runner = TrackNamesRunner(self)
        self.runner.finished.connect(self._read)
        self.runner.failed.connect(lambda message: self.hint.setText(message))
        self._cache: dict[str, list[TrackName]] = {}
        self._form: KnobForm | None = None
        self._dataset = ""

    def refresh(self, dataset: str | Dataset, form: KnobForm | None) -> None:
        """Offer `dataset`'s track names in `form`'s track boxes (read once per dataset)."""
        self._form = form
        boxes = form.track_boxes() if form is not None else {}
        # (only settings that count: a melody model's track setting when it learns that track;
        # nothing is read for the default set-up when the studio opens)
        boxes = {k: b for k, b in boxes.items() if b.isEnabled()}
        self.hint.setVisible(bool(boxes))
        if not boxes:
            self.runner.cancel()
            return
        name = dataset if isinstance(dataset, str) else dataset.name
        self._dataset = name
        if name in self._cache:
            self._apply(self._cache[name])
            return
        self.hint.setText(f"Reading the tracks of {name}…")

        def job(thread: JobThread) -> tuple[str, list[TrackName]]:
            from studio.data import load_dataset

            data = load_dataset(dataset) if isinstance(dataset, str) else dataset
            return name, track_names(data, cancel=thread.stop_requested)

        self.runner.start_job(job)

    def _read(self, result: tuple[str, list[TrackName]]) -> None:
        name, names = result
        self._cache[name] = names
        if name == self._dataset:
            self._apply(names)

    def _apply(self, names: list[TrackName]) -> None:
        form = self._form
        if form is None:
            return
        if not names:
            self.hint.setText("These songs have no named tracks: type the start of the track "
                              "names to use.")
        else:
            listed = ", ".join(f"{t.name} ({t.songs} of {t.read})" for t in names[:8])
            self.hint.setText(f"Tracks in these songs (in how many of those read): {listed}")
        offered = [(t.name, f"in {t.songs} of the {t.read} songs read") for t in names]
        for knob, box in form.track_boxes().items():
            if not box.isEnabled():
                continue
            box.set_names(offered)
            current = box.currentText()
            if names and not any(matches(current, t.name) for t in names):
                guess = best_guess(knob, names)
                if guess is not None:
                    box.setCurrentText(guess)

    def shutdown(self) -> None:
        self.runner.shutdown()


def best_guess(knob: str, names: list[TrackName]) -> str | None:
    """The likeliest track for a setting among `names` (most common first), or None."""
    pattern = GUESSES.get(knob)
    if pattern is None:
        return None
    for t in names:
        if re.search(pattern, t.name, re.IGNORECASE):
            return t.name
    return None
