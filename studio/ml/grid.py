"""Grid search: one training run per combination of hyperparameter values, a results table
sorted by the validation metric, and the best model kept.

    result = run_grid("lstm", dataset, {"hidden": [64, 128], "lr": [1e-3, 3e-3]},
                      TrainConfig(epochs=10), output="models/lstm-best")

Grid keys may be family knobs or training knobs. Each run trains through the ordinary `Trainer`
(so callbacks see every run's curves, told apart by `run_index`); runs that diverge or run out
of memory are recorded as failed and the search goes on. The best run's model files end up at
`output`; a table of all runs is written beside it as `OUTPUT.grid.json`.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.ml.callbacks import TrainingCallback, TrainingControl
from studio.ml.checkpoint import read_card, rewrite_card, weights_path
from studio.ml.commandline import train_command
from studio.ml.errors import ConfigError, NonFiniteLossError, TrainingOutOfMemoryError
from studio.ml.family import Family
from studio.ml.finetune import StartingPoint, fine_tune_command
from studio.ml.knobs import config_from_dict, config_to_dict, knobs_of
from studio.ml.registry import create_family, family_class
from studio.ml.train_config import TrainConfig
from studio.ml.trainer import Trainer
from studio.storage import write_atomically

if TYPE_CHECKING:
    from studio.data import Dataset

MAX_RUNS = 1000


@dataclass
class GridRow:
    """One run of the grid: its settings, outcome and best validation metrics."""

    index: int
    params: dict[str, Any]
    status: str = "pending"  # pending, running, completed, early-stopped, cancelled, failed
    best_epoch: int = 0
    metrics: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    error: str = ""

    def score(self, monitor: str) -> float:
        value = self.metrics.get(monitor, math.nan)
        return value if math.isfinite(value) else math.inf


@dataclass
class GridResult:
    rows: list[GridRow]  # sorted by the monitored metric, best first
    monitor: str
    best: GridRow | None
    checkpoint: Path | None


class GridCallback(TrainingCallback):
    """A training callback that also hears when each grid run starts and ends."""

    def on_grid_run_start(self, row: GridRow) -> None:
        pass

    def on_grid_run_end(self, row: GridRow) -> None:
        pass


def expand_grid(grid: dict[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination, in order (the last key varies fastest)."""
    if not grid:
        return [{}]
    for key, values in grid.items():
        if not values:
            raise ConfigError(f"the grid gives no values for {key}")
    combos = [dict(zip(grid, values)) for values in itertools.product(*grid.values())]
    if len(combos) > MAX_RUNS:
        raise ConfigError(f"the grid has {len(combos)} combinations; at most {MAX_RUNS}")
    return combos


def parse_grid(model: str, specs: Sequence[str]) -> dict[str, list[Any]]:
    """`["hidden=64,128", "lr=1e-3,3e-3"]` -> {"hidden": [64, 128], "lr": [0.001, 0.003]},
    each value checked against its knob."""
    fam = {k.name: k for k in knobs_of(family_class(model).Config)}
    train = {k.name: k for k in knobs_of(TrainConfig)}
    grid: dict[str, list[Any]] = {}
    for spec in specs:
        name, sep, values = spec.partition("=")
        name = name.strip().lstrip("-").replace("-", "_")
        if not sep or not values.strip():
            raise ConfigError(f"{spec!r}: write a grid as NAME=VALUE1,VALUE2,...")
        if name == "freeze":  # fine-tuning: lowest layer groups kept frozen
            try:
                grid[name] = [int(v) for v in values.split(",") if v.strip()]
            except ValueError:
                raise ConfigError(f"{spec!r}: freeze takes whole numbers") from None
            continue
        k = fam.get(name) or train.get(name)
        if k is None:
            raise ConfigError(f"{name}: not a setting of {model} models or of training")
        grid[name] = [k.coerce(v.strip()) for v in values.split(",") if v.strip()]
    return grid


def split_settings(model: str, params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Grid values split into (family knobs, training knobs); unknown names are an error."""
    fam_names = {k.name for k in knobs_of(family_class(model).Config)}
    train_names = {k.name for k in knobs_of(TrainConfig)}
    unknown = sorted(set(params) - fam_names - train_names)
    if unknown:
        raise ConfigError(f"{', '.join(unknown)}: not a setting of {model} models or of "
                          "training")
    return ({k: v for k, v in params.items() if k in fam_names},
            {k: v for k, v in params.items() if k in train_names})


def run_grid(model: str, dataset: Dataset, grid: dict[str, Sequence[Any]],
             train_config: TrainConfig | None = None, *, settings: dict[str, Any] | None = None,
             output: str | os.PathLike | None = None, callbacks: Sequence[TrainingCallback] = (),
             control: TrainingControl | None = None, monitor: str = "valid_loss",
             start_from: StartingPoint | None = None) -> GridResult:
    """Train one model per combination of `grid` (on top of `settings` and `train_config`).
    With `start_from`, every run fine-tunes that parent (the grid may then hold `freeze`)."""
    base_train = config_to_dict(train_config or TrainConfig())
    combos = expand_grid(grid)
    for params in combos:  # check every combination before the first run starts
        _row_family(model, params, settings, start_from)
        config_from_dict(TrainConfig, {**base_train, **split_settings(
            model, _without_freeze(params))[1]})
    control = control or TrainingControl()
    rows = [GridRow(i, p) for i, p in enumerate(combos)]
    out = Path(output) if output is not None else None
    work = Path(tempfile.mkdtemp(prefix=".grid-", dir=out.parent if out else None)) \
        if out is not None else None
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
    try:
        for row in rows:
            if control.cancelled:
                row.status = "cancelled"
                continue
            family, start = _row_family(model, row.params, settings, start_from)
            train_part = split_settings(model, _without_freeze(row.params))[1]
            config = config_from_dict(TrainConfig, {**base_train, **train_part})
            row.status = "running"
            _notify(callbacks, "on_grid_run_start", row)
            trainer = Trainer(family, dataset, config, callbacks=callbacks, control=control,
                              output=work / f"run-{row.index:03d}" if work else None,
                              run_index=row.index, start_from=start)
            try:
                result = trainer.run()
            except (NonFiniteLossError, TrainingOutOfMemoryError) as e:
                row.status, row.error = "failed", str(e)
            else:
                row.status, row.best_epoch = result.status, result.best_epoch
                row.metrics, row.seconds = result.best_metrics, result.seconds
            _notify(callbacks, "on_grid_run_end", row)
        ranked = sorted(rows, key=lambda r: (r.score(monitor), r.index))
        best = next((r for r in ranked if r.metrics and r.status != "cancelled"), None)
        checkpoint = None
        if out is not None and best is not None:
            source = work / f"run-{best.index:03d}"
            checkpoint = weights_path(out)
            card = read_card(source)
            family, start = _row_family(model, best.params, settings, start_from)
            config = config_from_dict(TrainConfig, {**base_train, **split_settings(
                model, _without_freeze(best.params))[1]})
            command = fine_tune_command(start, config, dataset.name, out) if start else \
                train_command(model, family.config, config, dataset.name, out)
            card.update(name=out.name, command=command,
                        grid={"monitor": monitor, "runs": [asdict(r) for r in ranked]})
            rewrite_card(source, out, card)
        if out is not None:
            table = {"model": model, "dataset": dataset.name, "monitor": monitor,
                     "grid": {k: list(v) for k, v in grid.items()},
                     "best": best.index if best else None, "runs": [asdict(r) for r in ranked]}
            write_atomically(out.with_name(out.name + ".grid.json"),
                               (json.dumps(table, indent=1) + "\n").encode())
        return GridResult(ranked, monitor, best, checkpoint)
    finally:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)


def _without_freeze(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if k != "freeze"}


def _row_family(model: str, params: dict[str, Any], settings: dict[str, Any] | None,
                start_from: StartingPoint | None) -> tuple[Family, StartingPoint | None]:
    """The family (and starting point, when fine-tuning) of one grid combination."""
    fam_part = split_settings(model, _without_freeze(params))[0]
    if start_from is None:
        if "freeze" in params:
            raise ConfigError("freeze is a setting of fine-tuning: start from a model")
        return create_family(model, {**(settings or {}), **fam_part}), None
    if fam_part:
        raise ConfigError(f"fine-tuning keeps {start_from.parent}'s model settings; a grid "
                          f"over {', '.join(sorted(fam_part))} needs training from scratch")
    start = start_from if "freeze" not in params else start_from.refrozen(int(params["freeze"]))
    return start.family, start


def _notify(callbacks: Sequence[TrainingCallback], hook: str, row: GridRow) -> None:
    for cb in callbacks:
        if hasattr(cb, hook):
            getattr(cb, hook)(row)
