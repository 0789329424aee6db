"""The registry of model families, discovered from the modules in `studio/ml/families/`.

Every module there that defines a `Family` subclass with a `name` is a family; nothing else has
to be edited to add one. Model names (what `studio train --model NAME` and the panel offer) map
to a family and config overrides: `lstm`, `gru` and `rnn` are the recurrent family with another
cell.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from functools import lru_cache
from typing import Any

from studio.ml.errors import UnknownModelError
from studio.ml.family import Family
from studio.ml.knobs import config_from_dict, config_to_dict, knobs_of


@lru_cache(maxsize=1)
def families() -> dict[str, type[Family]]:
    """Family classes by family name, from every module of `studio.ml.families`."""
    import studio.ml.families as pkg

    found: dict[str, type[Family]] = {}
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{pkg.__name__}.{info.name}")
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, Family) and obj is not Family and obj.name \
                    and obj.__module__ == module.__name__:
                if obj.name in found and found[obj.name] is not obj:
                    raise RuntimeError(f"two families named {obj.name!r}")
                found[obj.name] = obj
    _check_knob_names(found)
    return found


def _check_knob_names(found: dict[str, type[Family]]) -> None:
    """Family knobs share the command line with the training knobs: names must not clash."""
    from studio.ml.train_config import TrainConfig

    training = {k.name for k in knobs_of(TrainConfig)}
    for fam in found.values():
        clash = training & {k.name for k in knobs_of(fam.Config)}
        if clash:
            raise RuntimeError(f"family {fam.name!r} has knobs named like training settings: "
                               f"{', '.join(sorted(clash))}")


def model_names() -> dict[str, tuple[type[Family], dict[str, Any]]]:
    """Model name -> (family class, config overrides), sorted by name."""
    out: dict[str, tuple[type[Family], dict[str, Any]]] = {}
    for fam in families().values():
        for model, overrides in (fam.models or {fam.name: {}}).items():
            if model in out:
                raise RuntimeError(f"model name {model!r} offered by two families")
            out[model] = (fam, dict(overrides))
    return dict(sorted(out.items()))


def family_class(name: str) -> type[Family]:
    """The family of a model name or family name."""
    fams = families()
    if name in fams:
        return fams[name]
    models = model_names()
    if name in models:
        return models[name][0]
    raise UnknownModelError(f"no model family called {name!r}; choose one of "
                            f"{', '.join(models)}")


def create_family(model: str, settings: dict[str, Any] | None = None) -> Family:
    """A family instance for model name `model`, its config from defaults, the model name's
    overrides, then `settings` (values may be text; each is checked against its knob)."""
    fam = family_class(model)
    overrides = model_names().get(model, (fam, {}))[1]
    values = {**config_to_dict(fam.Config()), **overrides, **(settings or {})}
    return fam(config_from_dict(fam.Config, values))


def model_name_of(family: Family) -> str:
    """The model name that best describes a configured family (`gru` for a GRU cell)."""
    values = config_to_dict(family.config)
    matches = [(len(overrides), model) for model, (fam, overrides) in model_names().items()
               if fam is type(family) and all(values.get(k) == v for k, v in overrides.items())]
    return max(matches)[1] if matches else family.name
