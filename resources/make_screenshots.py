"""Render the studio offscreen with a song loaded and save docs/screenshots/*.png.

    QT_QPA_PLATFORM=offscreen .venv/bin/python resources/make_screenshots.py [NAME ...]

Each shot is a name and a function that prepares the window and returns the widget to grab.
A feature adds its own shot by appending to SHOTS, e.g.

    def training_shot(window):
        window.docks["Training"].raise_()
        ...
        return window.docks["Training"]

    SHOTS.append(("training_panel", training_shot))

Every shot starts from a fresh window holding the same song (a Bach chorale from the built-in
corpus, so no file outside the repository is needed).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from PySide6.QtCore import QSettings, Qt  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

OUT = REPO / "docs" / "screenshots"
SIZE = (1600, 1000)


def demo_song():
    """A chorale in four voices, named like an orchestra section, with a little dynamics."""
    from studio.data.builtin import jsb_chorales

    song = jsb_chorales().split("train")[3].song()
    song.title = "Chorale (J. S. Bach)"
    for i, (track, name, program) in enumerate(zip(song.tracks, ("Soprano", "Alto", "Tenor",
                                                                   "Bass"), (73, 71, 70, 32))):
        track.name, track.program = name, program
        for k, note in enumerate(track.notes):
            note.velocity = 60 + (k * 7 + i * 13) % 60
    return song


def main_window_shot(window) -> QWidget:
    """The whole window: tracks, piano roll with a selection, a loop and the playhead."""
    roll, doc = window.piano_roll, window.document
    soprano = doc.song.tracks[0]
    doc.select([n.id for n in soprano.notes[4:9]])
    roll.set_loop_region((4 * 1920, 8 * 1920))
    roll.follow_box.setChecked(False)
    roll.set_playhead(5 * 1920 + 480)
    roll.geom.show_ticks(0, 12 * 1920)
    pitches = [n.pitch for t in doc.song.tracks for n in t.notes]
    roll.geom.key_height = 11
    roll.geom.centre_on_pitch((min(pitches) + max(pitches)) / 2)
    return window


def piano_roll_shot(window) -> QWidget:
    """The editor close up: the alto is current, two bars, a note being dragged."""
    roll, doc = window.piano_roll, window.document
    for dock in window.docks.values():
        dock.hide()
    window.resize(1300, 820)
    QApplication.processEvents()
    alto = doc.song.tracks[1]
    doc.set_current_track(alto.id)
    doc.select([n.id for n in alto.notes[6:8]])
    roll.geom.key_height = 16
    roll.geom.show_ticks(2 * 1920, 6 * 1920)
    roll.geom.centre_on_pitch(sum(n.pitch for n in alto.notes) / len(alto.notes))
    roll.set_loop_region((3 * 1920, 5 * 1920))
    return roll


SHOTS: list[tuple[str, Callable]] = [
    ("main_window", main_window_shot),
    ("piano_roll", piano_roll_shot),
]


def _harmonized_demo(window, count: int = 4):
    """The first-launch demo harmonized from the Generation panel (seeded), variations listed."""
    import time

    from studio.ui.generation.generation_demo import open_demo

    open_demo(window)
    window.docks["Training"].hide()
    panel = window.generation_panel
    app = QApplication.instance()
    deadline = time.monotonic() + 120
    while not panel.generate_button.isEnabled() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    panel.sampling.count.setValue(count)
    panel.sampling.seed.setValue(11)
    panel.generate()
    while panel.runner.is_running() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    panel.candidates.select(1)
    return panel


def generation_panel_shot(window) -> QWidget:
    """The Generation panel after harmonizing the demo melody: four variations with their
    originality and style scores, the second one chosen."""
    _harmonized_demo(window)
    dock = window.docks["Generation"]
    window.resizeDocks([dock], [400], Qt.Orientation.Horizontal)
    return dock


def generation_result_shot(window) -> QWidget:
    """The whole window after accepting a harmonization: the melody with its new voices."""
    panel = _harmonized_demo(window)
    panel.accept(panel.candidates.current())
    window.piano_roll.geom.show_ticks(0, 8 * 1920)
    return window


def _wait(condition, seconds: float = 120) -> None:
    import time

    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.01)


def _dataset_dock(window, tab: str) -> QWidget:
    dock = window.docks["Dataset"]
    window.docks["Training"].hide()
    window.docks["Generation"].hide()
    window.resizeDocks([dock], [620], Qt.Orientation.Horizontal)
    dock.raise_()
    tabs = window.dataset_panel.tabs
    tabs.setCurrentIndex(next(k for k in range(tabs.count()) if tabs.tabText(k).startswith(tab)))
    QApplication.processEvents()
    return dock


def dataset_statistics_shot(window) -> QWidget:
    """The Dataset panel's statistics of the built-in chorales: keys, pitches, lengths."""
    panel = window.dataset_panel
    _wait(lambda: panel.current_dataset() is not None)
    return _dataset_dock(window, "Statistics")


def style_map_shot(window) -> QWidget:
    """The style map of the chorales coloured by key, with the open song among them."""
    panel = window.style_map
    _dataset_dock(window, "Style map")
    panel.colour.setCurrentIndex(panel.colour.findData("key"))
    panel.draw_map()
    _wait(lambda: not panel.runner.is_running())
    panel.add_open_song()
    _wait(lambda: not panel.runner.is_running())
    _dataset_dock(window, "Style map")
    window.resizeDocks([window.docks["Dataset"]], [760], Qt.Orientation.Horizontal)
    QApplication.processEvents()
    return panel  # the whole panel, also the part the dock scrolls away


SHOTS += [("dataset_statistics", dataset_statistics_shot), ("style_map", style_map_shot)]


SHOTS += [("generation_panel", generation_panel_shot),
          ("generation_result", generation_result_shot)]

# ---- the Training panel: real (small) runs on a few chorales, so the curves are real -----------
def _training_dock(window, tab: int) -> QWidget:
    dock = window.docks["Training"]
    window.docks["Generation"].hide()
    window.resizeDocks([dock], [560], Qt.Orientation.Horizontal)
    dock.raise_()
    window.training_panel.tabs.setCurrentIndex(tab)
    QApplication.processEvents()
    return dock


def _train(window, settings: dict, training: dict, grid: dict | None = None,
           train_pieces: int = 40) -> None:
    """Set the panel up like a musician would and train until the run ends."""
    import time

    from studio.data import Dataset, load_dataset

    jsb = load_dataset("jsb")
    panel = window.training_panel
    panel.setup.add_dataset(Dataset(f"chorales-{train_pieces}", jsb.split("train")[:train_pieces]
                                    + jsb.split("valid")[:12]))
    panel.setup.select_model("lstm")
    panel.setup.set_family_settings(settings)
    panel.setup.set_training(training)
    if grid is None:
        panel.start()
    else:
        panel.grid.set_grid(grid)
        panel.start_grid()
    while panel.is_running():
        QApplication.processEvents()
        time.sleep(0.01)
    QApplication.processEvents()
    print("  ", panel.message.text())


def training_curves_shot(window) -> QWidget:
    """A big model on four chorales memorises them (the validation loss turns up, early
    stopping ends the run at the best epoch), drawn over an earlier run on thirty chorales that
    kept learning (dashed)."""
    big = {"hidden": 256, "layers": 1, "embedding": 32, "window": 64, "dropout": 0.0,
           "voices": "all"}
    _train(window, big, {"epochs": 16, "lr": 1e-2, "batch_size": 32, "patience": 0,
                         "steps_per_epoch": 20}, train_pieces=30)
    _train(window, big, {"epochs": 80, "lr": 1e-2, "batch_size": 16, "patience": 8,
                         "steps_per_epoch": 0}, train_pieces=4)
    history = window.training_panel.history  # newest first: the earlier run is the second
    history.set_checked(Path(history.list.item(1).data(Qt.ItemDataRole.UserRole)))
    window.training_panel.curves.set_axis("epoch")
    return _training_dock(window, 1)


def training_setup_shot(window) -> QWidget:
    """The set-up form: a tooltip-explained setting for every knob of the chosen model."""
    window.training_panel.setup.select_model("lstm")
    return _training_dock(window, 0)


def training_grid_shot(window) -> QWidget:
    """A grid search of two sizes and two learning rates, the best run highlighted."""
    _train(window, {"layers": 1, "window": 64}, {"epochs": 6, "batch_size": 16, "patience": 0},
           grid={"hidden": [32, 128], "lr": [0.001, 0.005]})
    grid = window.training_panel.grid
    grid.select_run(0 if grid.best_index() else 1)  # another run's curves; the best stays green
    return _training_dock(window, 2)


def training_library_shot(window) -> QWidget:
    """The library with the models trained above, the grid search's best model's card open."""
    library = window.training_panel.library
    library.select(max((e for e in library.entries if not e.shipped), key=lambda e: e.created,
                       default=library.entries[0]).name if library.entries else "")
    return _training_dock(window, 3)


SHOTS += [("training_curves", training_curves_shot), ("training_setup", training_setup_shot),
          ("training_grid", training_grid_shot), ("training_library", training_library_shot)]


def chord_lane_shot(window) -> QWidget:
    """The chord lane over a POP909 song's melody: its chords suggested by the pop accompanist
    (Song > Suggest Chords), one being typed in the lane's editor."""
    from studio.data.pop909 import pop909_song
    from studio.ml.generation.chord_suggestion import suggest_chords, suggestion_edit
    from studio.ml.generation.material import bar_start

    for dock in window.docks.values():
        dock.hide()
    window.resize(1300, 820)
    song = pop909_song(20).song()
    song.title = "POP909 song 20"
    window.open_song(song)
    roll, doc = window.piano_roll, window.document
    melody = song.tracks[0]
    start = bar_start(song, min(n.start for n in melody.notes))
    doc.apply(suggestion_edit(song, suggest_chords(song, melody.id, start, start + 8 * 1920)))
    doc.set_current_track(melody.id)
    QApplication.processEvents()
    roll.geom.key_height = 12
    roll.geom.show_ticks(start, start + 6 * 1920)
    roll.geom.centre_on_pitch(sum(n.pitch for n in melody.notes) / len(melody.notes) - 8)
    lane = roll.chord_lane
    lane.select(song.chords[2].tick)
    lane.open_editor(start + 5 * 1920 + 960, existing=False)
    lane.editor.setText("G7/B")
    return roll


SHOTS.append(("chord_lane", chord_lane_shot))


def accompany_shot(window) -> QWidget:
    """A POP909 test song's melody with a piano part from Accompany (bars of the training songs
    re-voiced to its suggested chords), the Accompany form with its Piano choice beside it."""
    from studio.data.pop909 import pop909_song
    from studio.ml.generation.material import bar_start

    window.docks["Training"].hide()
    window.docks["Dataset"].hide()
    song = pop909_song(30).song()
    song.title = "POP909 song 30 (melody)"
    song.tracks = song.tracks[:1]
    song.invalidate()
    window.open_song(song)
    doc, panel = window.document, window.generation_panel
    melody = song.tracks[0]
    start = bar_start(song, min(n.start for n in melody.notes))
    doc.set_current_track(melody.id)
    panel.set_mode("accompany")
    form = panel.forms["accompany"]
    _wait(lambda: panel.generate_button.isEnabled() and form.track.text() != "")
    form.texture.setCurrentIndex(form.texture.findData("songs"))
    panel.sampling.seed.setValue(3)
    panel.generate()
    _wait(lambda: not panel.runner.is_running())
    panel.candidates.select(0)
    roll = window.piano_roll
    roll.geom.key_height = 7
    roll.geom.show_ticks(start, start + 6 * 1920)
    roll.geom.centre_on_pitch(58)
    dock = window.docks["Generation"]
    window.resizeDocks([dock], [420], Qt.Orientation.Horizontal)
    return window


SHOTS.append(("accompany", accompany_shot))


def pop_infill_shot(window) -> QWidget:
    """Bars 20-23 of a POP909 test song filled in (melody and piano; the piano from the song's
    own piano bars), the Pop infill form with its Piano choice beside it."""
    from studio.commands.generate import bar_tick
    from studio.data.pop909 import pop909_song

    window.docks["Training"].hide()
    window.docks["Dataset"].hide()
    song = pop909_song(20).song()
    song.title = "POP909 song 20"
    window.open_song(song)
    doc, panel = window.document, window.generation_panel
    _wait(lambda: not panel.catalog.busy)
    panel.select_model("pop-lstm")
    panel.set_mode("pop-infill")
    a, b = bar_tick(doc.song, 20), bar_tick(doc.song, 24)
    window.piano_roll.set_time_range((a, b))
    panel.refresh_forms()
    form = panel.forms["pop-infill"]
    form.set_checked((doc.song.tracks[0].id, doc.song.tracks[2].id))
    form.texture.setCurrentIndex(form.texture.findData("songs"))
    panel.sampling.seed.setValue(3)
    panel.generate()
    _wait(lambda: not panel.runner.is_running())
    panel.candidates.select(0)
    roll = window.piano_roll
    roll.geom.key_height = 7
    roll.geom.show_ticks(a - 1920, b + 1920)
    roll.geom.centre_on_pitch(62)
    dock = window.docks["Generation"]
    window.resizeDocks([dock], [420], Qt.Orientation.Horizontal)
    return window


SHOTS.append(("pop_infill", pop_infill_shot))


# ---- the whole window at the two sizes the default layout is designed for ----------------------
def window_at(size: tuple[int, int]) -> Callable:
    def shot(window) -> QWidget:
        """The window as it first opens at this size (the default layout), the chorale open,
        its soprano selected, the Generation panel in front."""
        main_window_shot(window)
        window.docks["Generation"].raise_()
        window.piano_roll.geom.show_ticks(0, (8 if size[0] < 1600 else 12) * 1920)
        return window
    return shot


WINDOW_SIZES = {"window_1280x800": (1280, 800), "window_1920x1080": (1920, 1080)}
SHOTS += [(name, window_at(size)) for name, size in WINDOW_SIZES.items()]


def make_window(home: Path, size: tuple[int, int] = SIZE):
    from studio.ui.main_window import MainWindow

    # Each shot starts from the default layout: the last shot's window saved its own (docks it
    # hid for its picture) on closing, and a hidden dock's widgets are not drawn up to date.
    settings = home / "screenshots.ini"
    settings.unlink(missing_ok=True)
    window = MainWindow(QSettings(str(settings), QSettings.Format.IniFormat))
    window.resize(*size)
    window.show()   # the default layout is made for the size the window is shown at
    window.open_song(demo_song())
    QApplication.processEvents()
    return window


def main(names: list[str]) -> int:
    import tempfile

    os.environ.setdefault("STUDIO_HOME", tempfile.mkdtemp(prefix="studio-shots-"))
    from studio.ui.app import application

    app = application()
    OUT.mkdir(parents=True, exist_ok=True)
    home = Path(os.environ["STUDIO_HOME"])
    chosen = [s for s in SHOTS if not names or s[0] in names]
    for name, prepare in chosen:
        window = make_window(home, WINDOW_SIZES.get(name, SIZE))
        widget = prepare(window)
        for _ in range(3):
            app.processEvents()
        path = OUT / f"{name}.png"
        widget.grab().save(str(path))
        print(path.relative_to(REPO))
        window.document.undo_stack.setClean()
        window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
