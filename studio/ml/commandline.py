"""The `studio train` command line that reproduces a run, recorded in every model card (also for
runs started from the training panel), and the option list of a config."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from studio.ml.knobs import knobs_of


def knob_options(config: Any, base: Any | None = None) -> list[str]:
    """Command-line options for the knobs of `config` that differ from `base` (or from the
    defaults)."""
    out: list[str] = []
    for k in knobs_of(config):
        value = getattr(config, k.name)
        reference = getattr(base, k.name) if base is not None else k.default
        if value == reference:
            continue
        if k.type is bool:
            out.append(k.option if value else "--no-" + k.option[2:])
        else:
            out += [k.option, repr(value) if k.type is float else str(value)]
    return out


def train_command(model: str, family_config: Any, train_config: Any, dataset: str,
                  output: Path | None) -> str:
    from studio.ml.errors import UnknownModelError
    from studio.ml.registry import create_family

    try:
        base = create_family(model).config
    except UnknownModelError:  # a family not in the registry (tests, notebooks)
        base = None
    parts = ["studio", "train", "--model", model, "--dataset", dataset,
             *knob_options(family_config, base),
             *knob_options(train_config)]
    if output is not None:
        parts += ["--output", str(output)]
    return shlex.join(parts)
