"""Training the pop accompanist from the Training panel on a musician's own multi-track songs
(issue 17): a folder of MIDI files whose tracks are called "Lead Vocal", "Keys" and "Strings" is
imported as a dataset; the panel offers those track names for the melody and accompaniment
settings (and picks the likeliest), trains on them with the real worker, and the model lands in
the library with those settings and accompanies a melody."""

from __future__ import annotations

from studio.data import load_dataset
from studio.data.importer import import_folder
from studio.data.pop909 import pop909_songs
from studio.data.track_names import track_names
from studio.midi.files import write_song
from studio.ml.checkpoint import read_card
from studio.ml.library import find_model
from tests.ui.training.test_training_panel import WAIT_MS, training_window

NEW_NAMES = {"MELODY": "Lead Vocal", "BRIDGE": "Strings", "PIANO": "Keys"}


def my_songs(folder, count=6):
    """Real POP909 songs saved as a musician's files, their tracks named the musician's way."""
    folder.mkdir()
    for s in pop909_songs()[:count]:
        song, n = s.song(), s.number
        for t in song.tracks:
            t.name = NEW_NAMES[t.name]
        write_song(song, folder / f"song {n}.mid")
    return folder


def test_track_names_of_the_built_in_pop_songs():
    names = track_names(load_dataset("pop909"), sample=6)
    assert {t.name for t in names} == {"MELODY", "BRIDGE", "PIANO"}
    assert all(t.read == 6 for t in names)
    assert names[0].songs == 6 and names[0].songs >= names[-1].songs


def test_train_the_accompanist_on_my_own_tracks_from_the_panel(qtbot, tmp_path):
    report = import_folder(my_songs(tmp_path / "my songs"), "my-band", workers=1)
    assert report.pieces == 6 and not report.bad
    window, panel = training_window(qtbot, tmp_path, model="accompanist",
                                    settings={"hidden": 16, "window": 32},
                                    training={"epochs": 1, "steps_per_epoch": 3,
                                              "batch_size": 8})
    setup = panel.setup
    setup.refresh_datasets()
    setup.select_dataset("my-band")
    boxes = setup.family_form.track_boxes()
    assert set(boxes) == {"melody_track", "accompaniment_track"}
    # the musician's track names are offered, and the likeliest chosen for each setting
    qtbot.waitUntil(lambda: boxes["melody_track"].count() == 3, timeout=WAIT_MS)
    offered = {boxes["melody_track"].itemText(i) for i in range(3)}
    assert offered == {"Lead Vocal", "Strings", "Keys"}
    assert setup.family_settings()["melody_track"] == "Lead Vocal"
    assert setup.family_settings()["accompaniment_track"] == "Keys"
    assert "Lead Vocal (" in setup.track_hint.text() and setup.track_hint.isVisibleTo(setup)

    with qtbot.waitSignal(panel.run_finished, timeout=WAIT_MS * 3) as finished:
        assert panel.start()
    assert finished.args == ["completed"]
    path = find_model(panel.job.name)
    card = read_card(path)
    assert card["config"]["melody_track"] == "Lead Vocal"
    assert card["config"]["accompaniment_track"] == "Keys"
    assert card["dataset"]["name"] == "my-band"

    # the trained model accompanies a melody of the dataset (a new piano track under it)
    from studio.ml.family import SamplingOptions
    from studio.ml.generation import GenerationRequest, generate

    song = load_dataset("my-band").pieces[0].song()
    melody = next(t for t in song.tracks if t.name == "Lead Vocal")
    bar = song.ppq * 4
    assert song.time_signatures[1].tick == song.ppq  # a pickup beat: bars start one beat in
    start = song.ppq + 8 * bar
    [candidate] = generate(GenerationRequest("accompany", str(path), song, (melody.id,),
                                             time_range=(start, start + 4 * bar),
                                             options=SamplingOptions(seed=1)))
    piano = candidate.preview.tracks[-1]
    assert len(piano.notes) >= 8
    assert all(start <= n.start < start + 4 * bar for n in piano.notes)


def test_a_melody_models_track_setting_counts_only_for_the_melody_track(qtbot, tmp_path):
    window, panel = training_window(qtbot, tmp_path, model="lstm")
    form = panel.setup.family_form
    track, voices = form.controls["melody_track"], form.controls["voices"]
    assert form.values()["voices"] == "soprano" and not track.isEnabled()
    assert not panel.setup.track_hint.isVisibleTo(panel.setup)  # nothing read for it
    voices.setCurrentIndex(voices.findData("melody"))
    assert track.isEnabled()
    qtbot.waitUntil(lambda: track.count() == 4, timeout=WAIT_MS)  # the chorales' voices
    assert track.itemText(0) == "Soprano" and panel.setup.track_hint.isVisibleTo(panel.setup)
    voices.setCurrentIndex(voices.findData("all"))
    assert not track.isEnabled()
