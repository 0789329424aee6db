"""`studio train --from MODEL`: the fine-tuning part of the train command.

The child takes its family and settings from the parent's card (model settings given on the
command line must agree with them), training settings default to `fine_tune_training`'s (for
these songs), a dataset without validation songs holds some back, and after the run the parent, the child
(and, with --compare-scratch, a model trained from scratch with the same budget) are scored on
the same songs, with warnings for an undertrained or overfitting child.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--from", dest="parent", metavar="MODEL", help="fine-tune: start from this "
                   "model (a name from `studio models` or a model file) instead of from scratch")
    p.add_argument("--freeze", type=int, default=0, metavar="N", help="fine-tune: keep the "
                   "model's N lowest layer groups as they are (default 0: all learn)")
    p.add_argument("--compare-scratch", action="store_true", help="fine-tune: also train a "
                   "model from scratch on the same songs with the same budget, to compare")


def prepare(args: argparse.Namespace, settings_from_args, open_dataset,
            resume_info: dict | None):
    """(starting point, family, training settings, dataset, warnings) for a fine-tune run."""
    from studio.ml.errors import ConfigError
    from studio.ml.finetune import fine_tune_setup, fine_tune_training
    from studio.ml.knobs import config_to_dict
    from studio.ml.registry import model_name_of

    parent = resume_info["parent"]["name"] if resume_info else args.parent
    freeze = resume_info["parent"]["freeze"] if resume_info else args.freeze
    start, dataset, warnings = fine_tune_setup(parent, open_dataset(args.dataset), freeze,
                                               resume=resume_info is not None)
    model = model_name_of(start.family)
    if args.model and model_name_of_family(args.model) != start.family.name:
        raise ConfigError(f"{parent} is a {model} model; fine-tuning keeps its kind (leave out "
                          "--model, or choose a model of that kind with --from)")
    args.model = model
    family_settings, train_settings = settings_from_args(args, model)
    mine = config_to_dict(start.family.config)
    changed = sorted(k for k, v in family_settings.items() if str(v) != str(mine.get(k)))
    if changed:
        raise ConfigError(f"fine-tuning keeps {parent}'s model settings; leave out "
                          f"{', '.join('--' + k.replace('_', '-') for k in changed)}")
    if resume_info:
        train_settings = {**resume_info["training"], **train_settings}
    else:
        train_settings = fine_tune_training(start, train_settings, dataset)
    return start, train_settings, dataset, warnings


def model_name_of_family(model: str) -> str:
    from studio.ml.registry import family_class

    return family_class(model).name


def recorded_command(start, config: Any, dataset: str, output: Path) -> str:
    from studio.ml.finetune import fine_tune_command

    return fine_tune_command(start, config, dataset, output)


def report(start, result, dataset, config, compare_scratch: bool, quiet: bool) -> None:
    """Parent, child (and scratch) scored on the same songs, and the warnings, on stderr."""
    from studio.ml.finetune import compare_with_parent, comparison_lines

    if compare_scratch and not quiet:
        print("training a model from scratch on the same songs, to compare", file=sys.stderr)
    comparison = compare_with_parent(start, result, dataset, config, scratch=compare_scratch)
    for line in comparison_lines(comparison, dataset.name):
        print(line, file=sys.stderr)
