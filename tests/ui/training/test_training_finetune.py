"""Fine-tuning from the Training panel, in the real window with the real worker: "Start from"
lists the shipped model of the chosen kind; choosing it fixes the model settings to the parent's
and sets gentle training defaults; the run starts from the parent, lands in the Library with its
parent in the card, and the panel compares it with its parent and a model trained from scratch on
the same songs."""

from __future__ import annotations

import pytest

from studio.data import Dataset, Piece
from studio.midi import read_song
from studio.ml.checkpoint import read_card
from studio.ml.finetune import LR_FACTOR
from studio.ml.library import find_model
from tests.ui.training.test_training_panel import WAIT_MS, training_window


def piano_songs(midi_files) -> Dataset:
    picks = [p for p in midi_files if p.parent.name in ("debussy", "joplin")][:6]
    return Dataset("piano", [Piece(p.stem, s, str(p), loader=lambda p=p: read_song(p))
                             for p, s in zip(picks, ["train"] * 4 + ["test"] * 2)], "piano")


def test_fine_tune_from_the_panel_compares_with_parent_and_scratch(qtbot, tmp_path, midi_files):
    window, panel = training_window(qtbot, tmp_path, dataset=piano_songs(midi_files),
                                    training={"epochs": 1, "steps_per_epoch": 2})
    setup = panel.setup
    box = setup.start_from
    names = [box.parent_box.itemData(i) for i in range(box.parent_box.count())]
    assert names[0] is None and "lstm-melody" in names and "vae-melody" not in names
    assert not box.freeze_box.isEnabled() and not box.anchor_box.isEnabled()
    parent = read_card(find_model("lstm-melody"))
    box.select("lstm-melody")
    assert not setup.family_form.isEnabled() and box.freeze_box.isEnabled()
    assert setup.family_settings()["hidden"] == parent["config"]["hidden"]
    assert setup.training_form.values()["lr"] == pytest.approx(parent["training"]["lr"] * LR_FACTOR)
    assert box.freeze_box.maximum() >= 1
    box.freeze_box.setValue(1)
    setup.set_training({"epochs": 1, "steps_per_epoch": 2, "batch_size": 8})
    # the anchor shown in the Start from box is the training setting the run uses
    assert box.anchor_box.isEnabled() and box.anchor == setup.training_form.values()["anchor"] == 0
    assert "held near the one you start from" in box.anchor_box.toolTip()
    box.anchor_box.setValue(0.002)
    assert setup.training_form.values()["anchor"] == pytest.approx(0.002)
    setup.training_form.set_values({"anchor": 0.001})
    assert box.anchor == pytest.approx(0.001)
    with qtbot.waitSignal(panel.run_finished, timeout=WAIT_MS * 3) as finished:
        assert panel.start()
    assert finished.args == ["completed"]
    card = read_card(find_model(panel.job.name))
    assert card["parent"]["name"] == "lstm-melody" and card["parent"]["freeze"] == 1
    assert card["training"]["anchor"] == pytest.approx(0.001)
    assert card["command"].startswith("studio train --from lstm-melody --dataset piano")
    scores = panel.comparison["scores"]
    assert list(scores) == ["lstm-melody (parent, as it is)", "fine-tuned", "from scratch"]
    assert scores["fine-tuned"] < scores["from scratch"]
    text = panel.message.text()
    assert "fine-tuned: " in text and "from scratch: " in text and "2 test songs" in text

    # back to scratch: the model settings can be changed again
    box.select(None)
    assert setup.family_form.isEnabled() and not box.freeze_box.isEnabled()
    assert not box.anchor_box.isEnabled() and box.anchor == 0
