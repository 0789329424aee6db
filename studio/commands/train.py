"""`studio train --model NAME --dataset NAME [settings] --output PATH`: train a model with a
progress bar and write PATH.safetensors + PATH.json (default: the user's model library).

Every knob of the training settings and of the model families is an option (`--lr 3e-3`,
`--hidden 128`, `--no-amp`); `studio train --help` lists them. Ctrl+C stops after the current
step and keeps what was learned; `--resume` continues such a run exactly where it stopped.
Under torchrun, `--distributed` trains on every process with DDP. `--from MODEL` fine-tunes a
trained model on the dataset instead of starting from scratch (see `studio/commands/_finetune.py`).
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
from datetime import datetime
from pathlib import Path
from typing import Any


def _knob_help(k: Any, models: list[str] | None = None) -> str:
    text = k.help
    if k.choices:
        text += f" Choices: {', '.join(map(str, k.choices))}."
    elif k.low is not None and k.high is not None and k.type is not bool:
        text += f" Range {k.low:g} to {k.high:g}."
    if models is not None:
        text += f" [{', '.join(models)}]"
    return text + f" (default: {k.default})"


def _add_knob(group: argparse._ArgumentGroup, k: Any, help_text: str) -> None:
    if k.type is bool:
        group.add_argument(k.option, dest=k.name, action=argparse.BooleanOptionalAction,
                           default=argparse.SUPPRESS, help=help_text)
    else:
        metavar = "|".join(map(str, k.choices)) if k.choices else k.type.__name__.upper()
        group.add_argument(k.option, dest=k.name, default=argparse.SUPPRESS, metavar=metavar,
                           help=help_text)


def add_knob_options(parser: argparse.ArgumentParser) -> None:
    """Training and model-family knobs as options of `parser`. This loads every model family
    (and torch), so a command offers it as its `engine_options` default (see `register`) and
    `studio.cli` calls it only for the command on the command line."""
    from studio.ml.knobs import knobs_of
    from studio.ml.registry import families, model_names
    from studio.ml.train_config import TrainConfig

    names = model_names()
    for action in parser._actions:
        if action.dest == "model":
            action.help = f"the model to train: {', '.join(names)}"
    training = parser.add_argument_group("training settings")
    for k in knobs_of(TrainConfig):
        _add_knob(training, k, _knob_help(k))
    model_group = parser.add_argument_group("model settings (each for the models named)")
    seen: dict[str, Any] = {}
    offered: dict[str, list[str]] = {}
    for fam in families().values():
        models = [m for m, (f, _) in names.items() if f is fam]
        for k in knobs_of(fam.Config):
            seen.setdefault(k.name, k)
            offered.setdefault(k.name, []).extend(models)
    for name, k in seen.items():
        _add_knob(model_group, k, _knob_help(k, offered[name]))


def settings_from_args(args: argparse.Namespace, model: str) -> tuple[dict, dict]:
    """(family settings, training settings) given on the command line, checked against the
    chosen model's knobs."""
    from studio.ml.errors import ConfigError
    from studio.ml.knobs import knobs_of
    from studio.ml.registry import families, family_class
    from studio.ml.train_config import TrainConfig

    train_names = {k.name for k in knobs_of(TrainConfig)}
    mine = {k.name for k in knobs_of(family_class(model).Config)}
    all_family = {k.name for f in families().values() for k in knobs_of(f.Config)}
    values = vars(args)
    wrong = sorted(n for n in all_family - mine if n in values)
    if wrong:
        raise ConfigError(f"{', '.join('--' + w.replace('_', '-') for w in wrong)}: not a "
                          f"setting of {model} models (theirs: "
                          f"{', '.join('--' + m.replace('_', '-') for m in sorted(mine))})")
    return ({n: values[n] for n in mine if n in values},
            {n: values[n] for n in train_names if n in values})


def open_dataset(name: str):
    from studio.data import load_dataset
    from studio.ml.errors import StudioMLError

    try:
        return load_dataset(name)
    except KeyError as e:
        raise StudioMLError(str(e.args[0]) if e.args else f"no dataset named {name!r}") from None


def is_main_process() -> bool:
    return os.environ.get("RANK", "0") == "0"


def recorded_command(model: str, family: Any, config: Any, dataset: str, output: Path,
                     distributed: bool, start: Any = None) -> str:
    """The command recorded in the card: every setting that differs from the defaults, so
    that it reproduces the run (resumed runs included)."""
    from studio.ml.commandline import train_command

    if start is not None:
        from studio.commands._finetune import recorded_command as fine_tune_command

        command = fine_tune_command(start, config, dataset, output)
    else:
        command = train_command(model, family.config, config, dataset, output)
    if distributed:
        world = os.environ.get("WORLD_SIZE", "N")
        command = f"torchrun --nproc_per_node={world} -m {command} --distributed"
    return command


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a model on a dataset", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", "-m", metavar="NAME")
    p.add_argument("--dataset", "-d", default="jsb", metavar="NAME",
                   help="a built-in or imported dataset (default: jsb)")
    p.add_argument("--output", "-o", metavar="PATH", help="where to write PATH.safetensors and "
                   "PATH.json (default: MODEL-DATASET in your model library)")
    p.add_argument("--resume", action="store_true", help="continue the stopped run at --output")
    p.add_argument("--force", action="store_true", help="replace an existing model at --output")
    p.add_argument("--keep-state", action="store_true", help="keep PATH.state.safetensors after "
                   "the run, to train it further with --resume")
    p.add_argument("--distributed", action="store_true", help="data-parallel training under "
                   "torchrun (gloo on CPU, NCCL on GPUs)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    p.add_argument("--tensorboard", metavar="DIR", help="also log the run for TensorBoard in "
                   "DIR (needs the tensorboard package; view with tensorboard --logdir DIR)")
    from studio.commands import _finetune

    _finetune.add_options(p)
    p.set_defaults(func=run, engine_options=add_knob_options)


def run(args: argparse.Namespace) -> int:
    from studio import paths
    from studio.ml.callbacks import TrainingControl
    from studio.ml.checkpoint import weights_path
    from studio.ml.errors import StudioMLError
    from studio.ml.knobs import config_from_dict
    from studio.ml.loggers import JsonlLog, ProgressBar
    from studio.ml.registry import create_family
    from studio.ml.train_config import TrainConfig
    from studio.ml.trainer import Trainer
    from studio.storage import check_writable

    if args.resume and not args.output:
        raise StudioMLError("--resume needs the --output of the run to continue")
    output = Path(args.output) if args.output else \
        paths.user_models_dir() / f"{args.model}-{args.dataset}"
    check_writable(weights_path(output), make_folder=True)  # a read-only or full disk: now
    start = None
    info = None
    if args.resume:
        from studio.ml.train_state import read_state_info

        info = read_state_info(output)
    if args.parent or (info and "parent" in info):  # fine-tuning
        from studio.commands import _finetune

        start, train_settings, dataset, warnings = _finetune.prepare(
            args, settings_from_args, open_dataset, info)
        for warning in warnings:
            print(f"note: {warning}", file=sys.stderr)
        if not args.output:
            output = paths.user_models_dir() / f"{start.parent}-{args.dataset}"
        family = start.family
    elif args.resume:  # the stopped run's settings, unless given again (e.g. more --epochs)
        args.model = args.model or info["model"]
        family_settings, train_settings = settings_from_args(args, args.model)
        family_settings = {**info["config"], **family_settings}
        train_settings = {**info["training"], **train_settings}
    elif not args.model:
        raise StudioMLError("choose a model with --model (studio train --help lists them)")
    else:
        family_settings, train_settings = settings_from_args(args, args.model)
    if start is None:
        family = create_family(args.model, family_settings)
        dataset = open_dataset(args.dataset)
    config = config_from_dict(TrainConfig, train_settings)
    if weights_path(output).exists() and not (args.resume or args.force):
        raise StudioMLError(f"{weights_path(output)} exists; choose another --output, "
                            "--force to replace it, or --resume to continue its run")
    main = is_main_process()
    callbacks: list[Any] = []
    if main and not args.quiet:
        callbacks.append(ProgressBar())
    if main:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        callbacks.append(JsonlLog(paths.runs_dir() / f"{output.name}-{stamp}.jsonl"))
        if args.tensorboard:
            from studio.ml.tensorboard_log import TensorBoardLog

            callbacks.append(TensorBoardLog(args.tensorboard, output.name))
    control = TrainingControl()

    def stop(signum: int, frame: Any) -> None:
        if control.cancelled:
            raise KeyboardInterrupt
        print("\nstopping after this step (Ctrl+C again to abort)", file=sys.stderr)
        control.cancel()

    previous = signal.signal(signal.SIGINT, stop)
    try:
        result = Trainer(family, dataset, config, callbacks=callbacks, control=control,
                         output=output, resume=args.resume,
                         command=recorded_command(args.model, family, config, args.dataset,
                                                  output, args.distributed, start),
                         distributed=args.distributed,
                         keep_state=args.keep_state, start_from=start).run()
    finally:
        signal.signal(signal.SIGINT, previous)
    if result.status == "cancelled":
        if main:
            print(f"stopped; continue with: studio train --model {args.model} --dataset "
                  f"{args.dataset} --output {shlex.quote(str(output))} --resume",
                  file=sys.stderr)
        return 130
    if start is not None and main:
        from studio.commands import _finetune

        _finetune.report(start, result, dataset, config, args.compare_scratch, args.quiet)
    return 0
