"""The training loop: one Qt-free trainer for every family.

    trainer = Trainer(create_family("lstm"), load_dataset("jsb"), TrainConfig(epochs=10),
                      callbacks=[ProgressBar()], output="models/my-lstm")
    result = trainer.run()

Each step takes a shuffled batch of encoded examples (already on the device), augments and
masks it, computes the family's loss (plus the L1 penalty), and steps the optimizer with
gradient clipping and the learning-rate schedule. Between steps it honours the control (pause,
cancel) and reports to the callbacks; after each epoch it validates, tracks the best epoch for
early stopping, and (with an `output`) writes the model files and a resumable state atomically.
Randomness is derived from the seed and the step number, so a resumed run continues exactly as
the uninterrupted one would have (on CPU).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from studio.ml import metrics as M
from studio.ml.callbacks import (
    EpochReport,
    RunInfo,
    StepReport,
    TrainingCallback,
    TrainingControl,
    TrainResult,
)
from studio.ml.checkpoint import save_checkpoint, weights_path
from studio.ml.commandline import train_command
from studio.ml.device import (
    accumulator_dtype,
    autocast,
    is_device_lost,
    is_out_of_memory,
    needs_grad_scaler,
    prepare_device,
    release_memory,
)
from studio.ml.distributed import ProcessGroup, join_process_group
from studio.ml.errors import (
    CheckpointError,
    DatasetTooSmallError,
    DeviceLostError,
    NonFiniteLossError,
    TrainingCancelled,
    TrainingOutOfMemoryError,
)
from studio.ml.evaluate import score
from studio.ml.family import Family
from studio.ml.knobs import config_to_dict, validate
from studio.ml.optim import LearningRateSchedule, build_optimizer, l1_penalty, set_lr
from studio.ml.registry import model_name_of
from studio.ml.train_config import TrainConfig
from studio.ml.train_state import TrainState, load_state, save_state, state_path

if TYPE_CHECKING:
    from studio.data import Dataset
    from studio.ml.finetune import StartingPoint


def derived_seed(seed: int, tag: int, n: int) -> int:
    """A 63-bit seed for (run seed, purpose, index): the same on every process and resume."""
    return (seed * 0x9E3779B97F4A7C15 + tag * 0x632BE59BD9B4E019 + n) % (2**63 - 1)


def _generator(seed: int) -> torch.Generator:
    g = torch.Generator()
    g.manual_seed(seed)
    return g


class Trainer:
    """Trains `family` on `dataset`; see the module docstring. `output` names the model files
    (`PATH.safetensors` + `PATH.json`, and `PATH.state.safetensors` while the run is
    unfinished); `resume` continues from that state."""

    def __init__(self, family: Family, dataset: Dataset, config: TrainConfig | None = None, *,
                 callbacks: Sequence[TrainingCallback] = (),
                 control: TrainingControl | None = None, output: str | os.PathLike | None = None,
                 resume: bool = False, command: str | None = None, distributed: bool = False,
                 keep_state: bool = False, run_index: int = 0,
                 start_from: StartingPoint | None = None) -> None:
        self.family, self.dataset = family, dataset
        self.config = validate(config or TrainConfig())
        self.callbacks = list(callbacks)
        self.control = control or TrainingControl()
        self.output = Path(output) if output is not None else None
        self.resume, self.distributed, self.keep_state = resume, distributed, keep_state
        self.run_index = run_index
        self.start_from = start_from  # fine-tuning: the parent's weights, frozen layers
        self.model_name = model_name_of(family)
        self.command = command or train_command(self.model_name, family.config, self.config,
                                                dataset.name, self.output)
        if resume and self.output is None:
            raise CheckpointError("resuming needs the model path of the run to continue")

    # -- the run ------------------------------------------------------------------------------
    def run(self) -> TrainResult:
        c = self.config
        if c.threads:
            torch.set_num_threads(c.threads)
        group = join_process_group(c.device) if self.distributed else \
            ProcessGroup(device=prepare_device(c.device))
        try:
            return self._run(group)
        except Exception as e:
            if is_out_of_memory(e):
                release_memory(group.device)
                raise TrainingOutOfMemoryError(
                    f"out of memory on {group.device.type} with batches of {c.batch_size}; "
                    f"choose a smaller batch size, window or model{self._resumable()}") from None
            if is_device_lost(e):
                release_memory(group.device)
                raise DeviceLostError(
                    f"the GPU ({group.device}) stopped working during training "
                    f"({str(e).strip().splitlines()[0][:160]}){self._resumable()}") from None
            raise
        finally:
            if self.distributed:
                group.close()

    def _run(self, group: ProcessGroup) -> TrainResult:
        c, fam, device = self.config, self.family, group.device
        torch.manual_seed(c.seed)
        train = fam.examples(self.dataset, "train", training=True)
        valid = fam.examples(self.dataset, "valid", training=False)
        if len(train) < group.world_size or (group.active and c.batch_size % group.world_size):
            raise DatasetTooSmallError(
                f"{len(train)} training excerpts and batches of {c.batch_size} cannot be split "
                f"over {group.world_size} processes (the batch size must be a multiple)")
        train, valid = train.to(device), valid.to(device)
        model = fam.build()
        if self.start_from is not None:
            self.start_from.apply(model)
        model = model.to(device)
        net: nn.Module = model
        if group.active:
            net = nn.parallel.DistributedDataParallel(
                model, device_ids=[device.index] if device.type == "cuda" else None)
        anchor = self.start_from.anchor(device) if self.start_from is not None and c.anchor \
            else None
        optimizer = build_optimizer(c, model.parameters())  # frozen layers are left out
        batch = min(c.batch_size, len(train))
        steps = max(1, len(train) // batch)
        if c.steps_per_epoch:
            steps = min(steps, c.steps_per_epoch)
        schedule = LearningRateSchedule(c, steps * c.epochs)
        scaler = torch.amp.GradScaler("cuda") if needs_grad_scaler(device, c.amp) else None
        log_every = c.log_every or (10 if device.type == "cuda" else 1)

        s = self._fresh_state(model)
        if self.resume:
            s = self._restore(model, optimizer, schedule, device)
        acc = accumulator_dtype(device)
        sums = {k: v.to(device, acc) for k, v in s["stats"].items()} if s["stats"] else \
            _new_sums(device)
        info = RunInfo(self.model_name, fam.name, self.dataset.name, config_to_dict(fam.config),
                       config_to_dict(c), str(device), sum(p.numel() for p in model.parameters()),
                       len(train), len(valid), steps, c.epochs, steps * c.epochs, s["epoch"],
                       s["global_step"], train.skipped, train.unreadable + valid.unreadable,
                       group.world_size, self.run_index)
        self._emit("on_train_start", info)

        status = "completed"
        t_start = time.perf_counter() - s["elapsed"]
        elapsed_before = s["elapsed"]
        paused_total = 0.0
        interval_loss = torch.zeros((), device=device)
        interval_n = 0
        epoch = s["epoch"]
        while epoch <= c.epochs and status == "completed":
            net.train()
            t_epoch = time.perf_counter()
            order = torch.randperm(len(train), generator=_generator(
                derived_seed(c.seed, 1, epoch))).to(device)
            step_in_epoch = s["step_in_epoch"]
            while step_in_epoch < steps:
                paused = self._check_control()
                paused_total += paused
                if self.control.cancelled:
                    status = "cancelled"
                    break
                gstep = s["global_step"]
                g = _generator(derived_seed(c.seed, 2, gstep))
                data = train.batch(order[step_in_epoch * batch:(step_in_epoch + 1) * batch])
                if c.transpose:
                    data = fam.augment(data, c.transpose, g)
                data = fam.prepare(data, g)
                if group.active:
                    part = group.shard(batch)
                    data = {k: v[part] for k, v in data.items()}
                lr = schedule.lr(gstep, epoch - 1)
                set_lr(optimizer, lr)
                fam.on_train_step(gstep, steps * c.epochs)
                with autocast(device, c.amp):
                    out = fam.loss(net, data)
                    loss = out.loss + (c.l1 * l1_penalty(model) if c.l1 else 0.0)
                    if anchor is not None:  # L2-SP: the pull towards the parent's weights
                        loss = loss + c.anchor * anchor(model)
                optimizer.zero_grad(set_to_none=True)
                if scaler is not None:
                    scaler.scale(loss).backward()
                    scaler.unscale_(optimizer)
                else:
                    loss.backward()
                if c.grad_clip:
                    nn.utils.clip_grad_norm_(model.parameters(), c.grad_clip)
                if scaler is not None:
                    scaler.step(optimizer)
                    scaler.update()
                else:
                    optimizer.step()
                M.add_stats(sums, out.stats)
                sums["loss"] += loss.detach().to(sums["loss"].dtype)
                sums["steps"] += 1
                interval_loss += loss.detach()
                interval_n += 1
                s["global_step"] = gstep + 1
                step_in_epoch += 1
                s["step_in_epoch"] = step_in_epoch
                if interval_n >= log_every or step_in_epoch == steps:
                    # the mean over every process, so that all of them stop on a NaN together
                    value = float(group.all_sum([interval_loss])[0]) / (interval_n *
                                                                       group.world_size)
                    if not math.isfinite(value):
                        raise NonFiniteLossError(
                            f"the loss became {'NaN' if math.isnan(value) else 'infinite'} at "
                            f"epoch {epoch}, step {step_in_epoch}: training diverged; lower the "
                            "learning rate or turn on gradient clipping")
                    interval_loss.zero_()
                    interval_n = 0
                    elapsed = time.perf_counter() - t_start - paused_total
                    done = s["global_step"] - info.start_step
                    self._emit("on_step_end", StepReport(
                        epoch, s["global_step"], step_in_epoch, steps, steps * c.epochs, value, lr,
                        elapsed, done * batch / max(1e-9, elapsed - elapsed_before),
                        self.run_index))
            if status == "cancelled":
                break
            metrics = self._epoch_metrics(group, net, valid, sums, batch)
            if metrics is None:  # cancelled while validating: resuming validates again
                status = "cancelled"
                break
            metrics.update(lr=schedule.lr(max(0, s["global_step"] - 1), epoch - 1),
                           seconds=time.perf_counter() - t_epoch, epoch=epoch)
            s["history"].append(metrics)
            schedule.epoch_end(metrics["valid_loss"])
            improved = metrics["valid_loss"] < s["best_value"]
            if improved:
                s["best_value"], s["best_epoch"], s["bad_epochs"] = metrics["valid_loss"], epoch, 0
                s["best"] = {k: v.detach().clone() for k, v in model.state_dict().items()}
            else:
                s["bad_epochs"] += 1
            s["elapsed"] = time.perf_counter() - t_start - paused_total
            sums = _new_sums(device)
            s["step_in_epoch"] = 0
            epoch += 1
            s["epoch"] = epoch
            if c.patience and s["bad_epochs"] >= c.patience and epoch <= c.epochs:
                status = "early-stopped"
            self._emit("on_epoch_end", EpochReport(
                epoch - 1, metrics, s["best_epoch"], improved, s["bad_epochs"], s["elapsed"],
                self.run_index))
            if group.is_main and self.output is not None and epoch <= c.epochs \
                    and status == "completed":
                self._save(model, optimizer, schedule, s, sums, "running")
        s["elapsed"] = time.perf_counter() - t_start - paused_total
        if status != "cancelled" and c.restore_best and s["best"] is not None:
            model.load_state_dict(s["best"])
        model.eval()
        result = TrainResult(status, s["history"], s["best_epoch"], model, fam,
                             seconds=s["elapsed"], run_index=self.run_index)
        if group.is_main and self.output is not None:
            result.card = self._save(model, optimizer, schedule, s, sums, status)
            result.checkpoint = weights_path(self.output)
        group.barrier()
        self._emit("on_train_end", result)
        return result

    # -- pieces of the run --------------------------------------------------------------------
    def _resumable(self) -> str:
        """What to tell the musician about the run's last checkpoint after a device failure."""
        if self.output is None or not state_path(self.output).exists():
            return ""
        return (f"; the run's last checkpoint is kept: continue it with studio train --resume "
                f"--output {self.output} (add --device cpu to go on without the GPU)")

    def _fresh_state(self, model: nn.Module) -> dict[str, Any]:
        return {"epoch": 1, "step_in_epoch": 0, "global_step": 0, "history": [],
                "best_value": math.inf, "best_epoch": 0, "bad_epochs": 0, "best": None,
                "elapsed": 0.0, "stats": None}

    def _check_control(self) -> float:
        if not self.control.paused:
            return 0.0
        self._emit("on_pause", True)
        waited = self.control.wait_while_paused()
        if not self.control.cancelled:
            self._emit("on_pause", False)
        return waited

    def _emit(self, hook: str, payload: Any) -> None:
        for cb in self.callbacks:
            try:
                getattr(cb, hook)(payload)
            except TrainingCancelled:
                self.control.cancel()

    def _epoch_metrics(self, group: ProcessGroup, net: nn.Module, valid, sums: dict,
                       batch: int) -> dict[str, float] | None:
        """Train metrics from the epoch's sums; valid metrics from a pass over `valid`, masked
        with fixed seeds so that every epoch sees the same masks. None if cancelled."""
        c = self.config
        stop = None if group.active else (lambda: self.control.cancelled)
        scored = score(self.family, net, valid, batch, lambda i: derived_seed(c.seed, 3, i),
                       group, c.amp, stop)
        if scored is None:
            return None
        vloss, vsums = scored
        keys = list(vsums)
        train_keys = [k for k in sums if k not in ("loss", "steps")]
        reduced = group.all_sum([vsums[k] for k in keys] + [vloss] +
                                [sums[k] for k in train_keys])
        vs = dict(zip(keys, map(float, reduced[:len(keys)])))
        ts = dict(zip(train_keys, map(float, reduced[len(keys) + 1:])))
        steps = float(sums["steps"])
        out = {"train_loss": float(sums["loss"]) / steps if steps else math.nan,
               "valid_loss": float(reduced[len(keys)]) / max(1, len(valid))}
        out.update(M.summarize(ts, "train"))
        out.update(M.summarize(vs, "valid"))
        if not math.isfinite(out["valid_loss"]):
            raise NonFiniteLossError("the validation loss is not a number: training diverged; "
                                     "lower the learning rate")
        return out

    def _card(self, status: str, s: dict[str, Any]) -> dict[str, Any]:
        ds = self.dataset
        return {"status": status, "command": self.command,
                "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "dataset": {"name": ds.name, "hash": ds.fingerprint(),
                            "pieces": {sp: len(ds.split(sp)) for sp in ("train", "valid", "test")}},
                "split": {"train": "train", "valid": "valid", "test": "test"},
                "training": config_to_dict(self.config), "best_epoch": s["best_epoch"],
                "metrics": s["history"], "seconds": round(s["elapsed"], 2),
                **({"parent": self.start_from.card_entry()} if self.start_from else {}),
                # a child generates as its parent was tuned to (the accompanist: bars of its
                # own training songs, the harmonizers: their decoding settings)
                **({"decoding": dict(self.start_from.parent_decoding)}
                   if self.start_from and self.start_from.parent_decoding else {})}

    def _save(self, model: nn.Module, optimizer, schedule: LearningRateSchedule,
              s: dict[str, Any], sums: dict, status: str) -> dict[str, Any]:
        """The model files and, unless the run finished, the resumable state."""
        unfinished = status in ("running", "cancelled")
        weights = s["best"] if unfinished and s["best"] is not None else model.state_dict()
        if status in ("completed", "early-stopped") and not self.keep_state:
            card = save_checkpoint(self.output, self.family, weights, self._card(status, s))
            state_path(self.output).unlink(missing_ok=True)
            return card
        # The state first: when it cannot be written (a full disk), the model files and the
        # state of the previous save stay as they were, and still resume together.
        info = {"family": self.family.name, "model": self.model_name,
                "config": config_to_dict(self.family.config),
                "training": config_to_dict(self.config), "dataset": self.dataset.fingerprint(),
                **{k: s[k] for k in ("epoch", "step_in_epoch", "global_step", "history",
                                     "best_epoch", "bad_epochs", "elapsed")},
                "best_value": None if math.isinf(s["best_value"]) else s["best_value"],
                "schedule": schedule.state(),
                **({"parent": self.start_from.card_entry()} if self.start_from else {})}
        save_state(self.output, TrainState(info, model.state_dict(), s["best"] or {},
                                           optimizer.state_dict(), torch.get_rng_state(),
                                           sums))
        return save_checkpoint(self.output, self.family, weights, self._card(status, s))

    def _restore(self, model: nn.Module, optimizer, schedule: LearningRateSchedule,
                 device: torch.device) -> dict[str, Any]:
        st = load_state(self.output)
        info = st.info
        mine = {"family": self.family.name, "config": config_to_dict(self.family.config),
                "dataset": self.dataset.fingerprint()}
        for key, value in mine.items():
            if info.get(key) != value:
                what = {"family": "model family", "config": "model settings",
                        "dataset": "dataset"}[key]
                raise CheckpointError(f"{state_path(self.output)}: the run was started with "
                                      f"another {what}; resume it with the same one")
        model.load_state_dict(st.model)
        optimizer.load_state_dict(st.optimizer)
        schedule.load_state(info["schedule"])
        torch.set_rng_state(st.rng)
        best = info["best_value"]
        return {**{k: info[k] for k in ("epoch", "step_in_epoch", "global_step", "history",
                                        "best_epoch", "bad_epochs", "elapsed")},
                "best_value": math.inf if best is None else best,
                "best": {k: v.to(device) for k, v in st.best.items()} or None,
                "stats": st.stats or None}


def _new_sums(device: torch.device) -> dict[str, torch.Tensor]:
    sums = M.zero_stats(device)
    sums["loss"] = torch.zeros((), dtype=accumulator_dtype(device), device=device)
    sums["steps"] = torch.zeros((), dtype=accumulator_dtype(device), device=device)
    return sums
