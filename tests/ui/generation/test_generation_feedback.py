"""Feedback while generating: a model whose card says it barely learned (4 epochs, onset F1 0)
is flagged in the Generation panel as undertrained; the shipped models are not."""

from __future__ import annotations

import json
import shutil

from PySide6.QtCore import Qt

from studio import paths
from studio.ml.finetune import generation_warnings
from studio.music.song import Note, Song, Track
from tests.conftest import REPO
from tests.ui.editor_driver import make_window


def undertrained_copy(name: str) -> None:
    """The shipped melody model's weights under a card of a 4-epoch run that never found where
    notes start (what a too-short run on a few songs writes)."""
    folder = paths.user_models_dir()
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(REPO / "models" / "lstm-melody.safetensors", folder / f"{name}.safetensors")
    card = json.loads((REPO / "models" / "lstm-melody.json").read_text())
    card["metrics"] = [{"epoch": e, "train_loss": 3.0 - 0.2 * e, "valid_loss": 3.1 - 0.2 * e,
                        "valid_f1": 0.0, "valid_recall": 0.0} for e in range(1, 5)]
    card["best_epoch"] = 4
    (folder / f"{name}.json").write_text(json.dumps(card))


def test_an_undertrained_model_is_flagged_and_a_shipped_one_is_not(qtbot, tmp_path):
    undertrained_copy("quick-melody")
    w = make_window(qtbot, tmp_path)
    panel = w.generation_panel
    panel.prepare()
    qtbot.waitUntil(lambda: panel.catalog.ready, timeout=30_000)
    assert panel.select_model("lstm-melody")
    assert not panel.model_warning.isVisibleTo(panel) and panel.model_warning.text() == ""
    assert panel.select_model("quick-melody")
    text = panel.model_warning.text()
    assert panel.model_warning.isVisibleTo(panel)
    assert "quick-melody may be undertrained" in text and "4 epochs" in text and "F1 0.00" in text
    assert panel.select_model("lstm-melody") and not panel.model_warning.isVisibleTo(panel)
    w.document.undo_stack.setClean()
    w.close()


def test_shipped_cards_give_no_generation_warning():
    for card in sorted((REPO / "models").glob("*.json")):
        assert generation_warnings(json.loads(card.read_text())) == [], card.name
    assert generation_warnings({"metrics": []}) == ["no epoch finished: the model is untrained"]


BAR = 1920


def onsets_by_bar(notes, start: int, bars: int) -> list[tuple[int, ...]]:
    """Each bar's onsets (in 16ths from the bar line) of the notes from tick `start`."""
    out = []
    for b in range(bars):
        lo = start + b * BAR
        out.append(tuple(sorted((n.start - lo) // 120 for n in notes if lo <= n.start < lo + BAR)))
    return out


def test_interpolation_keeps_the_two_melodies_rhythms(qtbot, tmp_path):
    # A: dotted quarter + eighth, twice a bar; B: a half note then four eighths.
    a_rhythm, b_rhythm = [(0, 720), (720, 240), (960, 720), (1680, 240)], \
        [(0, 960), (960, 240), (1200, 240), (1440, 240), (1680, 240)]
    first = Track("Dotted", notes=[Note(p, bar * BAR + s, d, 90) for bar in range(4)
                                   for (s, d), p in zip(a_rhythm, (67, 69, 71, 67))])
    second = Track("Eighths", notes=[Note(p, bar * BAR + s, d, 90) for bar in range(4)
                                     for (s, d), p in zip(b_rhythm, (72, 71, 69, 67, 65))])
    w = make_window(qtbot, tmp_path, Song([first, second], title="Two"))
    panel, doc = w.generation_panel, w.document
    panel.prepare()
    qtbot.waitUntil(lambda: panel.catalog.ready, timeout=30_000)
    panel.set_mode("interpolate")
    assert panel.model_combo.model_name() == "vae-melody"
    form = panel.forms["interpolate"]
    form.first.setCurrentIndex(form.first.findData(doc.song.tracks[0].id))
    form.second.setCurrentIndex(form.second.findData(doc.song.tracks[1].id))
    form.steps.setValue(3)
    end = doc.song.end
    qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.runner.is_running(), timeout=60_000)
    assert panel.candidates.candidates, panel.message.text()
    qtbot.mouseClick(panel.candidates.accept_button, Qt.MouseButton.LeftButton)
    morph = doc.song.tracks[-1]
    a_onsets, b_onsets = (tuple(s // 120 for s, _ in r) for r in (a_rhythm, b_rhythm))
    bars = onsets_by_bar(morph.notes, end, 5 * 4)   # A, three steps, B: four bars each
    assert bars[:4] == [a_onsets] * 4 and bars[-4:] == [b_onsets] * 4
    steps = [bars[4 + 4 * k: 8 + 4 * k] for k in range(3)]
    for k, step in enumerate(steps, start=1):   # every bar has one of the two rhythms, and
        assert all(bar in (a_onsets, b_onsets) for bar in step), step   # step k has B's in
        assert step.count(b_onsets) == k, step                          # k of its 4 bars
    doc.undo_stack.setClean()
    w.close()
