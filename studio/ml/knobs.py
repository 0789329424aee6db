"""Knobs: the settings of a model family or of training, described well enough to build a form.

A config is a plain `@dataclass` whose fields are declared with `knob(...)`: a default, a range or
a list of choices, and one line of help in plain words. The training panel builds its form from
`knobs_of(Config)`, the command line builds its options from the same list, and model cards store
`config_to_dict(config)`, so a knob is declared once and appears everywhere.

    @dataclass
    class MyConfig:
        hidden: int = knob(256, low=16, high=2048, help="Memory cells per layer: ...")
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, get_type_hints

from studio.ml.errors import ConfigError


def knob(default: Any, *, help: str, low: float | None = None, high: float | None = None,
         choices: Sequence[Any] | None = None, log: bool = False, label: str = "",
         advanced: bool = False, validator: Callable[[Any], Any] | None = None) -> Any:
    """A dataclass field with the metadata a form needs.

    `low`/`high` bound numbers (inclusive); `choices` lists the allowed values (or `validator`
    checks a value, raising ConfigError, where no list can hold them all); `log` asks for a
    logarithmic slider (learning rates); `advanced` hides the knob behind "more settings".
    """
    meta = {"help": help, "low": low, "high": high, "choices": tuple(choices) if choices else None,
            "log": log, "label": label, "advanced": advanced, "validator": validator}
    return dataclasses.field(default=default, metadata={"knob": meta})


@dataclass(frozen=True)
class Knob:
    """One setting as a form sees it."""

    name: str
    type: type  # int, float, bool or str
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    choices: tuple | None = None
    log: bool = False
    label: str = ""
    advanced: bool = False
    validator: Callable[[Any], Any] | None = None

    @property
    def title(self) -> str:
        """The label shown beside the control ("Batch size")."""
        return self.label or self.name.replace("_", " ").capitalize()

    @property
    def option(self) -> str:
        """The command-line option (`--batch-size`)."""
        return "--" + self.name.replace("_", "-")

    def coerce(self, value: Any) -> Any:
        """`value` (possibly text from a command line or a form) as this knob's type, checked."""
        try:
            if self.type is bool:
                if isinstance(value, str):
                    low = value.strip().lower()
                    if low not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                        raise ValueError(value)
                    value = low in ("1", "true", "yes", "on")
                value = bool(value)
            elif self.type is int:
                if isinstance(value, float) and not value.is_integer():
                    raise ValueError(value)
                value = int(float(value)) if isinstance(value, str) else int(value)
            elif self.type is float:
                value = float(value)
                if not math.isfinite(value):
                    raise ValueError(value)
            else:
                value = str(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{self.name} must be {_type_words(self.type)}, "
                              f"got {value!r}") from None
        self.check(value)
        return value

    def check(self, value: Any) -> None:
        if self.validator is not None:
            self.validator(value)
        if self.choices is not None and value not in self.choices:
            raise ConfigError(f"{self.name} must be one of {', '.join(map(str, self.choices))}, "
                              f"got {value!r}")
        if self.type in (int, float):
            if self.low is not None and value < self.low:
                raise ConfigError(f"{self.name} must be at least {self.low:g}, got {value:g}")
            if self.high is not None and value > self.high:
                raise ConfigError(f"{self.name} must be at most {self.high:g}, got {value:g}")


def _type_words(t: type) -> str:
    return {int: "a whole number", float: "a number", bool: "true or false"}.get(t, "text")


def knobs_of(config: Any) -> list[Knob]:
    """The knobs of a config dataclass (class or instance), in declaration order."""
    cls = config if isinstance(config, type) else type(config)
    hints = get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        meta = f.metadata.get("knob")
        if meta is None:
            continue
        t = hints[f.name]
        out.append(Knob(f.name, t if t in (int, float, bool) else str, f.default, **meta))
    return out


def validate(config: Any) -> Any:
    """Check every knob of `config` against its range and choices; returns the config."""
    for k in knobs_of(config):
        k.check(k.coerce(getattr(config, k.name)))
    return config


def config_to_dict(config: Any) -> dict[str, Any]:
    """The knob values, JSON-ready."""
    return {k.name: getattr(config, k.name) for k in knobs_of(config)}


def config_from_dict(cls: type, values: dict[str, Any], *, strict: bool = True) -> Any:
    """A config of `cls` from (possibly textual) values; unknown names are an error if `strict`."""
    by_name = {k.name: k for k in knobs_of(cls)}
    unknown = sorted(set(values) - set(by_name))
    if unknown and strict:
        raise ConfigError(f"unknown setting{'s' if len(unknown) > 1 else ''} "
                          f"{', '.join(unknown)}; known: {', '.join(by_name)}")
    kwargs = {n: by_name[n].coerce(v) for n, v in values.items() if n in by_name}
    return cls(**kwargs)


def with_changes(config: Any, **changes: Any) -> Any:
    """A copy of `config` with some knobs changed (coerced and checked)."""
    return config_from_dict(type(config), {**config_to_dict(config), **changes})
