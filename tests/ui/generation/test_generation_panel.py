"""The Generation panel in the real window with the real generation core and the shipped models:
the demo chorale melody harmonized from the panel (first variation listed before the others are
done, the editor answering all along), auditioned through the real playback and built-in synth,
accepted as one undo step; a stale variation refused; cancel; closing mid-generation; bad input
explained with the song untouched; a melody and a continuation from the LSTM; a morph between two
melodies from the VAE."""

from __future__ import annotations

import shutil
import time

from PySide6.QtCore import QPoint, QSettings, Qt, QTimer

from studio import paths
from studio.data.builtin import jsb_chorales
from studio.midi.synth import SoundFontSynth
from studio.music.edits import AddTrack, ChangeNotes, ChangeSong, TrackValues
from studio.music.song import Note, Song, Track
from studio.ui.generation.generation_candidates import STYLE_COLUMN
from studio.ui.generation.generation_demo import TITLE
from studio.ui.main_window import MainWindow
from tests.ui.editor_driver import known_song, snapshot

HARMONIZER, MELODY_MODEL = "cnn-harmonizer", "lstm-melody"
GENERATION_TIMEOUT = 60_000


def demo_window(qtbot, tmp_path) -> MainWindow:
    """A first launch: the window opens on the demo chorale melody, models loaded."""
    w = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    qtbot.waitUntil(lambda: w.document.song.title == TITLE, timeout=5000)
    panel = w.generation_panel
    qtbot.waitUntil(panel.generate_button.isEnabled, timeout=30_000)
    return w


def close(w: MainWindow) -> None:
    w.document.undo_stack.setClean()
    w.close()


def start(qtbot, panel, count: int = 1, seed: int = 7) -> None:
    panel.sampling.count.setValue(count)
    panel.sampling.seed.setValue(seed)
    qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    assert panel.runner.is_running(), panel.message.text()


def wait_done(qtbot, panel) -> None:
    qtbot.waitUntil(lambda: not panel.runner.is_running(), timeout=GENERATION_TIMEOUT)


def test_demo_harmonized_auditioned_accepted_and_undone_in_one_step(qtbot, tmp_path):
    w = demo_window(qtbot, tmp_path)
    panel, doc = w.generation_panel, w.document
    melody = doc.song.tracks[0]
    assert [t.name for t in doc.song.tracks] == [melody.name] and doc.current_track_id == melody.id
    assert panel.mode() == "harmonize" and panel.model_combo.model_name() == HARMONIZER

    arrivals: list[tuple[int, bool]] = []   # (candidates listed, generation still running)
    panel.runner.candidate_ready.connect(
        lambda c: arrivals.append((c.index, panel.runner.is_running())))
    # Loading the models at launch takes the interpreter for a few tenths of a second at a
    # time (imports, fitting the style critic); generating must not.
    qtbot.waitUntil(lambda: not panel.catalog.busy, timeout=30_000)
    ticks: list[float] = []
    probe = QTimer(interval=20)
    probe.timeout.connect(lambda: ticks.append(time.monotonic()))
    probe.start()
    began = time.monotonic()
    start(qtbot, panel, count=2)
    # The musician keeps working meanwhile: an edit that does not touch the melody.
    doc.apply(ChangeSong((("title", "My chorale"),)))
    wait_done(qtbot, panel)
    probe.stop()
    ended = time.monotonic()
    assert arrivals == [(0, True), (1, True)], "the first variation is listed before the rest"
    # The probe ticked all through the run (from the click to the last candidate), never
    # stopped for long: the gaps include the run's start and end.
    times = [began, *ticks, ended]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert len(ticks) >= 5 and max(gaps) < 0.5, f"the editor froze for {max(gaps):.2f} s"

    table = panel.candidates.table
    assert table.rowCount() == 2
    for row in range(2):
        assert table.item(row, 1).text().split(" ")[0] in ("original", "quotes", "copies"), \
            table.item(row, 1).text()
        float(table.item(row, STYLE_COLUMN).text())
    header = table.horizontalHeader()
    x = header.sectionViewportPosition(STYLE_COLUMN) + header.sectionSize(STYLE_COLUMN) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(x, header.height() // 2))
    scores = [panel.candidates.candidates[i].style.style_score for i in panel.candidates.order()]
    assert scores == sorted(scores, reverse=True), "sorted by style, best first"

    # Audition: the preview plays through the real playback and the built-in synth.
    panel.candidates.select(0)
    chosen = panel.candidates.current()
    synth = w.playback.player.output
    assert isinstance(synth, SoundFontSynth)
    sent = synth.sent_count
    qtbot.mouseClick(panel.candidates.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.playback.position > 480, timeout=5000)
    assert w.playback.is_playing and w.playback.song is chosen.preview
    assert synth.sent_count > sent and abs(synth.render(2048)).max() > 1e-4, "it sounds"
    assert panel.candidates.play_button.text() == "Stop"
    qtbot.mouseClick(panel.candidates.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not w.playback.is_playing, timeout=3000)

    # A variation made for a melody that has changed since is refused, the song untouched.
    first = melody.notes[0]
    doc.apply(ChangeNotes.of({first.id: {"pitch": first.pitch + 1}}))
    before = snapshot(doc.song)
    qtbot.mouseClick(panel.candidates.accept_button, Qt.MouseButton.LeftButton)
    assert "changed after these variations were made" in panel.message.text()
    assert snapshot(doc.song) == before
    doc.undo_stack.undo()

    # Accept: the three voices as new tracks, one undo step; one Ctrl+Z removes exactly them.
    before, steps = snapshot(doc.song), doc.undo_stack.index()
    qtbot.mouseClick(panel.candidates.accept_button, Qt.MouseButton.LeftButton)
    assert doc.undo_stack.index() == steps + 1
    new = [t for t in doc.song.tracks if t.id in chosen.new_track_ids]
    assert len(new) == 3 and all(t.notes for t in new)
    assert [sorted(n.key() for n in t.notes) for t in doc.song.tracks] == \
        [sorted(n.key() for n in t.notes) for t in chosen.preview.tracks]
    assert "is in the song" in panel.message.text()
    # Accepting the other variation right away swaps them (still one step from the start).
    other = panel.candidates.candidates[1 - chosen.index]
    panel.candidates.select(other.index)
    qtbot.mouseClick(panel.candidates.accept_button, Qt.MouseButton.LeftButton)
    assert doc.undo_stack.index() == steps + 1 and panel.candidates.accepted == other.index
    assert {t.id for t in doc.song.tracks} == {melody.id, *other.new_track_ids}
    w.undo_action.trigger()
    assert snapshot(doc.song) == before
    panel.candidates.select(chosen.index)
    qtbot.mouseClick(panel.candidates.accept_button, Qt.MouseButton.LeftButton)
    assert panel.candidates.accepted == chosen.index
    panel.candidates.map_button.click()
    assert len(w.style_map._added["generated"]) == 2

    # Infill: bars 3-4 of the alto and tenor rewritten, every other note kept.
    harmonized = snapshot(doc.song)
    alto, tenor = new[0], new[1]
    panel.set_mode("infill")
    w.piano_roll.set_time_range((2 * 1920, 4 * 1920))
    panel.refresh_forms()
    panel.forms["infill"].set_checked([alto.id, tenor.id])
    assert "bar 3 to bar 5" in panel.forms["infill"].range_text.text()
    start(qtbot, panel, count=1)
    wait_done(qtbot, panel)
    assert len(panel.candidates.candidates) == 1, panel.message.text()

    def outside(song):
        return [sorted(n.key() for n in t.notes if n.end <= 2 * 1920 or n.start >= 4 * 1920)
                for t in song.tracks]
    def others(song):
        return [sorted(n.key() for n in t.notes) for t in song.tracks
                if t.id not in (alto.id, tenor.id)]
    kept, melody_and_bass = outside(doc.song), others(doc.song)
    qtbot.mouseClick(panel.candidates.accept_button, Qt.MouseButton.LeftButton)
    assert outside(doc.song) == kept and others(doc.song) == melody_and_bass
    assert snapshot(doc.song) != harmonized
    w.undo_action.trigger()
    assert snapshot(doc.song) == harmonized and panel.candidates.accepted is None
    w.undo_action.trigger()
    assert snapshot(doc.song) == before
    close(w)


def test_cancel_keeps_the_song_and_closing_mid_generation_waits(qtbot, tmp_path):
    w = demo_window(qtbot, tmp_path)
    panel, doc = w.generation_panel, w.document
    before = snapshot(doc.song)
    start(qtbot, panel, count=6)
    qtbot.waitUntil(lambda: "writing variation" in panel.progress.format(), timeout=20_000)
    qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    assert not panel.runner.is_running() and panel.generate_button.isEnabled()
    assert panel.message.text().startswith("Cancelled")
    started = time.monotonic()
    qtbot.waitUntil(lambda: panel.runner.threads_alive() == 0, timeout=10_000)
    assert time.monotonic() - started < 2, "the core stops between sampling steps"
    assert len(panel.candidates.candidates) < 6 and snapshot(doc.song) == before
    # Closing while generating cancels and waits: no thread is left running.
    start(qtbot, panel, count=6)
    qtbot.waitUntil(lambda: "writing variation" in panel.progress.format(), timeout=20_000)
    close(w)
    assert panel.runner.threads_alive() == 0 and snapshot(doc.song) == before


def test_bad_input_shows_the_reason_and_changes_nothing(qtbot, tmp_path):
    w = demo_window(qtbot, tmp_path)
    panel, doc = w.generation_panel, w.document

    def refused(expect: str) -> None:
        before, steps = snapshot(doc.song), doc.undo_stack.index()
        qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
        if panel.runner.is_running():
            wait_done(qtbot, panel)
        assert expect in panel.message.text(), panel.message.text()
        assert panel.message.property("error") is True
        assert snapshot(doc.song) == before and doc.undo_stack.index() == steps
        assert not panel.candidates.candidates

    # Infill and re-harmonizing a range need a selection.
    panel.set_mode("infill")
    refused("Select the region to rewrite")
    panel.set_mode("harmonize")
    panel.forms["harmonize"].only_range.setChecked(True)
    refused("Select the time range to re-harmonize")
    panel.forms["harmonize"].only_range.setChecked(False)
    # With a key, new notes stay in it unless the musician ticks "Chromatic notes"
    form = panel.forms["harmonize"]
    assert form.fields(w)["chromatic"] is False
    form.chromatic.setChecked(True)
    assert form.fields(w)["chromatic"] is True
    form.chromatic.setChecked(False)
    # A melody longer than the harmonizer takes at once: the core says why.
    w.open_song(Song([Track("Hymn", notes=[Note(67 + i % 5, i * 480, 480) for i in
                                           range(4 * 80)])]))
    refused("80 bars of 4/4 long; harmonize at most 64 bars of it at a time")
    # No track at all.
    w.open_song(Song())
    refused("The song has no track yet")
    # A model that cannot do the mode: the user's "my-harmonizer" was overwritten by a melody
    # model after it was listed.
    w.open_song(known_song())
    folder = paths.user_models_dir()
    folder.mkdir(parents=True, exist_ok=True)
    for ext in ("safetensors", "json"):
        shutil.copy(paths.SHIPPED_MODELS_DIR / f"{HARMONIZER}.{ext}", folder / f"mine.{ext}")
    assert panel.select_model("mine") and panel.model_combo.model_name() == "mine"
    for ext in ("safetensors", "json"):
        shutil.copy(paths.SHIPPED_MODELS_DIR / f"{MELODY_MODEL}.{ext}", folder / f"mine.{ext}")
    refused("cannot harmonize")
    assert not panel.select_model("no-such-model")
    assert "no model called no-such-model" in panel.message.text()
    close(w)


def test_melody_and_continuation_from_the_melody_model(qtbot, tmp_path):
    w = demo_window(qtbot, tmp_path)
    panel, doc = w.generation_panel, w.document
    assert panel.select_model(MELODY_MODEL)
    assert panel.mode() == "melody", "a melody model cannot harmonize: the mode follows it"
    panel.forms["melody"].bars.setValue(4)
    start(qtbot, panel, count=2)
    wait_done(qtbot, panel)
    assert len(panel.candidates.candidates) == 2, panel.message.text()
    before, tracks = snapshot(doc.song), len(doc.song.tracks)
    qtbot.mouseClick(panel.candidates.accept_button, Qt.MouseButton.LeftButton)
    assert len(doc.song.tracks) == tracks + 1
    doc.undo_stack.undo()
    assert snapshot(doc.song) == before

    # Continue the chorale melody after its first four bars (the notes selected).
    panel.set_mode("continue")
    melody = doc.song.tracks[0]
    doc.set_current_track(melody.id)
    doc.select([n.id for n in melody.notes if n.end <= 4 * 1920])
    qtbot.waitUntil(lambda: panel.forms["continue"].track.text().startswith(melody.name))
    panel.forms["continue"].start.setCurrentIndex(1)   # the end of the selection
    panel.forms["continue"].bars.setValue(2)
    start(qtbot, panel, count=1)
    wait_done(qtbot, panel)
    assert len(panel.candidates.candidates) == 1, panel.message.text()
    end = w.piano_roll.selection_range()[1]
    start_at = panel.session.audition_start(panel.candidates.current())
    assert 1920 <= end - start_at <= 3 * 1920, "auditions start shortly before"

    def notes(start: int, stop: int) -> set:   # (the last note before may be held longer)
        return {(n.id, n.start, n.pitch) for n in doc.song.tracks[0].notes
                if start <= n.start < stop}
    ahead, window_end = notes(0, end), end + 2 * 1920
    old, after = notes(end, window_end), notes(window_end, 10**9)
    qtbot.mouseClick(panel.candidates.accept_button, Qt.MouseButton.LeftButton)
    assert notes(0, end) == ahead and notes(window_end, 10**9) == after
    new_notes = notes(end, window_end)
    assert new_notes and not new_notes & old, "two new bars replace what was there"
    doc.undo_stack.undo()
    assert snapshot(doc.song) == before
    close(w)


def test_interpolate_between_two_melodies_of_the_song(qtbot, tmp_path):
    w = demo_window(qtbot, tmp_path)
    panel, doc = w.generation_panel, w.document
    other = jsb_chorales().split("test")[0].satb[:8 * 16, 0]
    second = Track("Second melody", notes=[Note(int(p), i * 120, 120) for i, p in
                                           enumerate(other) if p >= 0])
    doc.apply(AddTrack(TrackValues.of(second)))
    panel.set_mode("interpolate")
    assert panel.model_combo.model_name() == "vae-melody"
    form = panel.forms["interpolate"]
    assert form.first.currentData() == doc.song.tracks[0].id
    form.second.setCurrentIndex(form.second.findData(doc.song.tracks[1].id))
    form.steps.setValue(3)
    song_end = doc.song.end
    before = snapshot(doc.song)
    start(qtbot, panel)
    wait_done(qtbot, panel)
    assert len(panel.candidates.candidates) == 1, panel.message.text()
    morph = panel.candidates.current()
    start_at = panel.session.audition_start(morph)
    assert song_end <= start_at < song_end + 1920, "auditions start where the morph begins"
    qtbot.mouseClick(panel.candidates.accept_button, Qt.MouseButton.LeftButton)
    added = [t for t in doc.song.tracks if t.id in morph.new_track_ids]
    assert len(added) == 1 and min(n.start for n in added[0].notes) >= song_end
    doc.undo_stack.undo()
    assert snapshot(doc.song) == before
    close(w)


def test_accompany_a_pop_melody_with_typed_chords(qtbot, tmp_path):
    from studio.data.pop909 import pop909_song

    w = demo_window(qtbot, tmp_path)
    panel, doc = w.generation_panel, w.document
    song = pop909_song(20).song()
    song.tracks = song.tracks[:1]  # the melody alone, its first eight bars
    first = min(n.start for n in song.tracks[0].notes)
    song.tracks[0].notes = [n for n in song.tracks[0].notes if n.start < first + 8 * 1920]
    song.invalidate()
    w.open_song(song)
    doc.set_current_track(doc.song.tracks[0].id)
    panel.set_mode("accompany")
    assert panel.model_combo.model_name() == "pop-accompanist"
    form = panel.forms["accompany"]
    qtbot.waitUntil(lambda: form.track.text() != "")
    form.chords.setText("C G Hm F")
    before = snapshot(doc.song)
    start(qtbot, panel)
    wait_done(qtbot, panel)
    assert "'Hm'" in panel.message.text() and "bar 3" in panel.message.text()
    assert snapshot(doc.song) == before and not panel.candidates.candidates
    form.chords.setText("| C | G | Am | F |")
    start(qtbot, panel)
    wait_done(qtbot, panel)
    assert len(panel.candidates.candidates) == 1, panel.message.text()
    assert "bars of the model's training songs" in panel.candidates.current().description
    form.texture.setCurrentIndex(form.texture.findData("model"))  # the network's own voicings
    start(qtbot, panel)
    wait_done(qtbot, panel)
    assert len(panel.candidates.candidates) == 1, panel.message.text()
    own = panel.candidates.current()
    assert "training songs" not in own.description
    assert all(n.start % 120 == 0 for t in own.preview.tracks[-1:] for n in t.notes)
    qtbot.mouseClick(panel.candidates.accept_button, Qt.MouseButton.LeftButton)
    assert doc.song.tracks[-1].name == "Piano accompaniment" and doc.song.tracks[-1].notes
    doc.undo_stack.undo()
    assert snapshot(doc.song) == before
    close(w)
