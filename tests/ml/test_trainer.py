"""The trainer: reports through callbacks, pauses, cancels, resumes exactly, stops early with
the best weights, refuses bad data and diverging runs cleanly, and is reproducible."""

from __future__ import annotations

import threading
import time

import pytest
import torch

from studio.data import Dataset
from studio.ml.callbacks import ThrottledCallback, TrainingCallback, TrainingControl
from studio.ml.checkpoint import card_path, load_checkpoint, read_card, weights_path
from studio.ml.errors import (
    CheckpointError,
    DatasetTooSmallError,
    NonFiniteLossError,
    TrainingCancelled,
)
from studio.ml.evaluate import evaluate
from studio.ml.loggers import JsonlLog, read_run_log
from studio.ml.registry import create_family
from studio.ml.train_config import TrainConfig
from studio.ml.train_state import state_path
from studio.ml.trainer import Trainer
from tests.ml.conftest import TINY_LSTM

FAST = dict(batch_size=8, lr=1e-2, steps_per_epoch=6)


class Recorder(TrainingCallback):
    def __init__(self, cancel_at_step: int = 0) -> None:
        self.events: list[tuple[str, object]] = []
        self.cancel_at_step = cancel_at_step

    def on_train_start(self, info):
        self.events.append(("start", info))

    def on_step_end(self, report):
        self.events.append(("step", report))
        if report.step == self.cancel_at_step:
            raise TrainingCancelled("stop")

    def on_epoch_end(self, report):
        self.events.append(("epoch", report))

    def on_pause(self, paused):
        self.events.append(("pause", paused))

    def on_train_end(self, result):
        self.events.append(("end", result))

    def of(self, kind):
        return [p for k, p in self.events if k == kind]


def lstm():
    return create_family("lstm", TINY_LSTM)


def weights_of(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_callbacks_see_every_step_and_epoch(jsb_tiny, tmp_path):
    rec = Recorder()
    result = Trainer(lstm(), jsb_tiny, TrainConfig(epochs=2, **FAST),
                     callbacks=[rec, JsonlLog(tmp_path / "m.jsonl")], output=tmp_path / "m").run()
    info = rec.of("start")[0]
    assert info.model == "lstm" and info.steps_per_epoch == 6 and info.total_steps == 12
    steps = rec.of("step")
    assert [s.step for s in steps] == list(range(1, 13))
    assert all(s.loss > 0 and s.lr == 1e-2 and s.samples_per_second > 0 for s in steps)
    epochs = rec.of("epoch")
    assert [e.epoch for e in epochs] == [1, 2]
    for key in ("train_loss", "valid_loss", "valid_nll", "valid_accuracy", "valid_precision",
                "valid_recall", "valid_f1", "train_accuracy", "lr", "seconds"):
        assert key in epochs[0].metrics
    assert rec.of("end")[0] is result and result.checkpoint == weights_path(tmp_path / "m")
    log = read_run_log(tmp_path / "m.jsonl")
    assert log.info["model"] == "lstm" and [s["step"] for s in log.steps] == list(range(1, 13))
    assert [e["metrics"]["valid_loss"] for e in log.epochs] == \
        [e.metrics["valid_loss"] for e in epochs] and log.end["status"] == "completed"
    card = read_card(tmp_path / "m")
    assert card["status"] == "completed" and len(card["metrics"]) == 2
    assert card["dataset"]["hash"] == jsb_tiny.fingerprint()
    assert card["command"].startswith("studio train --model lstm --dataset jsb-4-6-2")
    assert not state_path(tmp_path / "m").exists()  # removed when the run finished


def test_same_seed_same_model(jsb_tiny):
    a = Trainer(lstm(), jsb_tiny, TrainConfig(epochs=1, transpose=2, **FAST)).run()
    b = Trainer(lstm(), jsb_tiny, TrainConfig(epochs=1, transpose=2, **FAST)).run()
    c = Trainer(lstm(), jsb_tiny, TrainConfig(epochs=1, transpose=2, seed=1, **FAST)).run()
    assert all(torch.equal(x, y) for x, y in zip(a.model.parameters(), b.model.parameters()))
    assert not torch.equal(a.model.head.weight, c.model.head.weight)


@pytest.mark.parametrize("stop_at", [6, 9])  # the epoch's last step (before validating), mid-epoch
def test_cancel_then_resume_continues_exactly(jsb_tiny, tmp_path, stop_at):
    family = create_family("lstm", {**TINY_LSTM, "dropout": 0.3})  # the RNG state matters
    config = TrainConfig(epochs=2, transpose=3, **FAST)
    straight = Trainer(family, jsb_tiny, config, output=tmp_path / "a").run()

    rec = Recorder(cancel_at_step=stop_at)
    stopped = Trainer(family, jsb_tiny, config, callbacks=[rec], output=tmp_path / "b").run()
    assert stopped.status == "cancelled" and len(stopped.history) == (stop_at > 6)
    assert state_path(tmp_path / "b").exists()
    assert read_card(tmp_path / "b")["status"] == "cancelled"
    load_checkpoint(tmp_path / "b")  # a usable model already (the last weights before any epoch)

    rec2 = Recorder()
    resumed = Trainer(family, jsb_tiny, config, callbacks=[rec2], output=tmp_path / "b",
                      resume=True).run()
    assert resumed.status == "completed" and rec2.of("start")[0].start_step == stop_at
    assert [s.step for s in rec2.of("step")] == list(range(stop_at + 1, 13))
    assert resumed.history == [{**h, "seconds": resumed.history[i]["seconds"]}
                               for i, h in enumerate(straight.history)]
    for x, y in zip(straight.model.parameters(), resumed.model.parameters()):
        assert torch.equal(x, y)
    assert not state_path(tmp_path / "b").exists()


def test_resume_refuses_other_settings_or_no_state(jsb_tiny, tmp_path):
    Trainer(lstm(), jsb_tiny, TrainConfig(epochs=1, **FAST), callbacks=[Recorder(3)],
            output=tmp_path / "c").run()
    other = create_family("lstm", {**TINY_LSTM, "hidden": 32})
    with pytest.raises(CheckpointError, match="another model settings"):
        Trainer(other, jsb_tiny, TrainConfig(epochs=1, **FAST), output=tmp_path / "c",
                resume=True).run()
    with pytest.raises(CheckpointError, match="nothing to resume"):
        Trainer(lstm(), jsb_tiny, TrainConfig(epochs=1, **FAST), output=tmp_path / "none",
                resume=True).run()


def test_pause_blocks_between_steps_and_cancel_from_another_thread(jsb_tiny):
    control = TrainingControl()
    rec = Recorder()

    class PauseAtStep3(TrainingCallback):
        def on_step_end(self, report):
            if report.step == 3:
                control.pause()

    outcome = {}
    worker = threading.Thread(target=lambda: outcome.update(r=Trainer(
        lstm(), jsb_tiny, TrainConfig(epochs=50, **FAST), callbacks=[PauseAtStep3(), rec],
        control=control).run()))
    worker.start()
    deadline = time.monotonic() + 30
    while not control.paused and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)
    assert control.paused and max(s.step for s in rec.of("step")) == 3
    assert rec.of("pause") == [True]
    control.resume()
    while max(s.step for s in rec.of("step")) < 8 and time.monotonic() < deadline:
        time.sleep(0.01)
    control.cancel()
    worker.join(30)
    assert not worker.is_alive()
    result = outcome["r"]
    assert result.status == "cancelled" and rec.of("pause") == [True, False]
    assert 8 <= max(s.step for s in rec.of("step")) < 300


def test_early_stopping_restores_the_best_weights(jsb_tiny):
    family = create_family("lstm", {**TINY_LSTM, "hidden": 96, "embedding": 32})
    rec = Recorder()
    result = Trainer(family, jsb_tiny, TrainConfig(epochs=40, batch_size=8, lr=1e-2, patience=3),
                     callbacks=[rec]).run()
    assert result.status == "early-stopped"
    assert len(result.history) == result.best_epoch + 3 < 40
    best = result.history[result.best_epoch - 1]["valid_loss"]
    assert best == min(h["valid_loss"] for h in result.history) < result.history[-1]["valid_loss"]
    again = evaluate(family, result.model, jsb_tiny, "valid", ngram_order=0)
    assert again.metrics["loss"] == pytest.approx(best, rel=1e-6)
    assert rec.of("epoch")[result.best_epoch - 1].is_best


def test_a_diverging_run_stops_with_a_clear_error_and_writes_nothing(jsb_tiny, tmp_path):
    # A deep ReLU net without gradient clipping at a learning rate of 10 overflows in 3 steps
    # (the local pitch view: the full view's batch norm keeps it finite much longer).
    config = TrainConfig(epochs=3, optimizer="adam", lr=10.0, grad_clip=0, batch_size=8,
                         steps_per_epoch=10)
    family = create_family("cnn", {"channels": 16, "layers": 16, "window": 16,
                                   "pitch_view": "local"})
    with pytest.raises(NonFiniteLossError, match="training diverged; lower the learning rate"):
        Trainer(family, jsb_tiny, config, output=tmp_path / "nan").run()
    assert list(tmp_path.iterdir()) == []


def test_empty_or_too_short_data_is_refused(jsb_tiny):
    with pytest.raises(DatasetTooSmallError, match="has no melodies"):
        Trainer(lstm(), Dataset("empty", []), TrainConfig(epochs=1)).run()
    long_window = create_family("lstm", {**TINY_LSTM, "window": 2000})
    with pytest.raises(DatasetTooSmallError, match="as long as the model's window of 2000 "
                       r"steps \(the longest has \d+\)"):
        Trainer(long_window, jsb_tiny, TrainConfig(epochs=1)).run()
    cnn = create_family("cnn", {"window": 1000})
    with pytest.raises(DatasetTooSmallError, match="window of 1000"):
        Trainer(cnn, jsb_tiny, TrainConfig(epochs=1)).run()
    no_valid = Dataset("no-valid", jsb_tiny.split("train"))
    with pytest.raises(DatasetTooSmallError, match="valid split"):
        Trainer(lstm(), no_valid, TrainConfig(epochs=1)).run()


@pytest.mark.parametrize("optimizer,schedule", [("sgd", "cosine"), ("adagrad", "step"),
                                                ("adadelta", "plateau"), ("adamw", "constant")])
def test_every_optimizer_and_schedule_trains(jsb_tiny, optimizer, schedule):
    rec = Recorder()
    lr = {"sgd": 0.5, "adagrad": 0.05, "adadelta": 1.0, "adamw": 1e-2}[optimizer]
    config = TrainConfig(epochs=3, optimizer=optimizer, schedule=schedule, lr=lr, nesterov=True,
                         weight_decay=1e-4, step_epochs=1, patience=2, warmup_steps=3,
                         batch_size=8, steps_per_epoch=6)
    result = Trainer(lstm(), jsb_tiny, config, callbacks=[rec]).run()
    lrs = [s.lr for s in rec.of("step")]
    assert lrs[0] == pytest.approx(lr / 3)  # warm-up
    if schedule == "cosine":
        assert lrs[-1] < 0.05 * lr
    if schedule == "step":
        assert lrs[-1] == pytest.approx(lr * 0.25)
    assert result.history[-1]["valid_loss"] < result.history[0]["valid_loss"] + 0.5


def test_l1_makes_weights_smaller(jsb_tiny):
    plain = Trainer(lstm(), jsb_tiny, TrainConfig(epochs=1, **FAST)).run()
    sparse = Trainer(lstm(), jsb_tiny, TrainConfig(epochs=1, l1=1e-3, **FAST)).run()
    size = lambda m: sum(p.abs().sum() for p in m.parameters() if p.dim() > 1)  # noqa: E731
    assert size(sparse.model) < 0.9 * size(plain.model)


def test_throttled_callback_merges_steps():
    rec = Recorder()
    throttled = ThrottledCallback(rec, interval=3600)
    from studio.ml.callbacks import StepReport

    for i in range(1, 6):
        throttled.on_step_end(StepReport(1, i, i, 5, 5, float(i), 1e-3, i, 10.0))
    throttled.on_train_end(None)
    assert [(s.step, s.loss) for s in rec.of("step")] == [(1, 1.0), (5, 3.5)]
    assert card_path("x").name == "x.json"


def test_families_hear_the_step_for_their_schedules(jsb_tiny, tmp_path):
    from studio.ml.families.recurrent import Recurrent

    class Annealed(Recurrent):
        def __init__(self, config):
            super().__init__(config)
            self.seen = []

        def on_train_step(self, step, total_steps):
            self.seen.append((step, total_steps))

    family = Annealed(lstm().config)
    Trainer(family, jsb_tiny, TrainConfig(epochs=2, **FAST), callbacks=[Recorder(4)],
            output=tmp_path / "k").run()
    Trainer(family, jsb_tiny, TrainConfig(epochs=2, **FAST), output=tmp_path / "k",
            resume=True).run()
    assert family.seen == [(i, 12) for i in range(12)]


def test_unreadable_pieces_are_left_out_and_counted(jsb_tiny, tmp_path):
    from studio.data import Piece
    from studio.midi import read_song

    bad = tmp_path / "broken.mid"
    bad.write_bytes(b"MThd not really")
    broken = Piece("broken", "train", str(bad), loader=lambda: read_song(bad))
    dataset = Dataset("with-a-broken-file", [broken, *jsb_tiny.pieces])
    rec = Recorder()
    Trainer(lstm(), dataset, TrainConfig(epochs=1, **FAST), callbacks=[rec]).run()
    assert rec.of("start")[0].unreadable_pieces == 1
