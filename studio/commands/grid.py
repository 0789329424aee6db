"""`studio grid --model NAME --grid KNOB=V1,V2 ... --output PATH`: train one model per
combination of values, print the runs sorted by validation loss, keep the best model at PATH
(and the table in PATH.grid.json). Other options are those of `studio train`, shared by all
runs, e.g. `studio grid --model lstm --grid hidden=64,128 --grid lr=1e-3,3e-3 --epochs 10`.
With `--from MODEL`, every run fine-tunes that model, over training knobs and `freeze`:
`studio grid --from lstm-melody --dataset mine --grid lr=1e-4,3e-4 --grid freeze=0,1`.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import Any

from studio.commands.train import add_knob_options, open_dataset, settings_from_args


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("grid", help="grid search over model and training settings",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", "-m", metavar="NAME")
    p.add_argument("--from", dest="parent", metavar="MODEL", help="fine-tune this model in "
                   "every run (grid over training knobs and freeze)")
    p.add_argument("--dataset", "-d", default="jsb", metavar="NAME",
                   help="a built-in or imported dataset (default: jsb)")
    p.add_argument("--grid", "-g", action="append", default=[], metavar="KNOB=V1,V2,...",
                   required=True, help="values to try for one setting (repeat for more)")
    p.add_argument("--output", "-o", metavar="PATH", help="where to keep the best model "
                   "(default: MODEL-DATASET-grid in your model library)")
    p.add_argument("--monitor", default="valid_loss", help="the validation metric to rank by "
                   "(lower is better; default valid_loss)")
    p.add_argument("--force", action="store_true", help="replace an existing model at --output")
    p.add_argument("--quiet", "-q", action="store_true", help="only the results table")
    p.add_argument("--tensorboard", metavar="DIR", help="also log every run for TensorBoard in "
                   "DIR, hyperparameters included (compare them in its HParams view)")
    p.set_defaults(func=run, engine_options=add_knob_options)


def format_table(result: Any) -> str:
    keys = list(result.rows[0].params) if result.rows else []
    head = ["#", *keys, "status", "best epoch", "valid loss", "valid nll", "accuracy",
            "onset F1", "time"]
    lines = []
    for r in result.rows:
        m = r.metrics
        cells = [str(r.index + 1), *(f"{r.params[k]:g}" if isinstance(r.params[k], float)
                                     else str(r.params[k]) for k in keys),
                 r.status + (" *" if result.best is r else ""), str(r.best_epoch or "-")]
        cells += [f"{m[k]:.4f}" if k in m else "-" for k in ("valid_loss", "valid_nll")]
        cells += [f"{m[k]:.3f}" if k in m else "-" for k in ("valid_accuracy", "valid_f1")]
        cells.append(f"{r.seconds:.0f}s")
        lines.append(cells)
    widths = [max(len(x) for x in col) for col in zip(head, *lines)]
    fmt = "  ".join(f"{{:>{w}}}" for w in widths)
    out = [fmt.format(*head)] + [fmt.format(*cells) for cells in lines]
    failed = [f"  run {r.index + 1}: {r.error}" for r in result.rows if r.error]
    return "\n".join(out + (["failed runs:"] + failed if failed else []))


def run(args: argparse.Namespace) -> int:
    from studio import paths
    from studio.ml.callbacks import TrainingControl
    from studio.ml.checkpoint import weights_path
    from studio.ml.errors import StudioMLError
    from studio.ml.grid import GridCallback, expand_grid, parse_grid, run_grid
    from studio.ml.knobs import config_from_dict
    from studio.ml.loggers import ProgressBar
    from studio.ml.train_config import TrainConfig

    start = None
    dataset = open_dataset(args.dataset)
    if args.parent:
        from studio.ml.finetune import fine_tune_setup, fine_tune_training
        from studio.ml.registry import model_name_of

        start, dataset, notes = fine_tune_setup(args.parent, dataset)
        for note in notes:
            print(f"note: {note}", file=sys.stderr)
        args.model = model_name_of(start.family)
    elif not args.model:
        raise StudioMLError("choose a model with --model, or a model to fine-tune with --from")
    family_settings, train_settings = settings_from_args(args, args.model)
    if start is not None:
        train_settings = fine_tune_training(start, train_settings, dataset)
    grid = parse_grid(args.model, args.grid)
    output = Path(args.output) if args.output else \
        paths.user_models_dir() / f"{args.model}-{args.dataset}-grid"
    if weights_path(output).exists() and not args.force:
        raise StudioMLError(f"{weights_path(output)} exists; choose another --output or "
                            "--force to replace it")
    total = len(expand_grid(grid))

    class RunHeader(GridCallback):
        def on_grid_run_start(self, row: Any) -> None:
            settings = " ".join(f"{k}={v}" for k, v in row.params.items())
            print(f"run {row.index + 1}/{total}: {settings}", file=sys.stderr)

    callbacks: list[Any] = [RunHeader()]
    if not args.quiet:
        callbacks.append(ProgressBar())
    if args.tensorboard:
        from studio.ml.tensorboard_log import TensorBoardLog

        callbacks.append(TensorBoardLog(args.tensorboard, output.name, grid=True))
    control = TrainingControl()
    previous = signal.signal(signal.SIGINT, lambda *a: control.cancel())
    try:
        result = run_grid(args.model, dataset, grid, config_from_dict(TrainConfig,
                                                                      train_settings),
                          settings=family_settings, output=output, callbacks=callbacks,
                          control=control, monitor=args.monitor, start_from=start)
    finally:
        signal.signal(signal.SIGINT, previous)
    print(format_table(result))
    if result.checkpoint:
        print(f"best model: run {result.best.index + 1}, saved {result.checkpoint}")
        return 0
    print("no run finished; nothing saved", file=sys.stderr)
    return 1
