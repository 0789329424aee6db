"""Knobs describe and check settings; the registry finds families by itself, so that a new
family module plugs in without touching any other file."""

from __future__ import annotations

import sys
import textwrap

import pytest

import studio.ml.families as families_pkg
from studio.ml import registry
from studio.ml.errors import ConfigError, UnknownModelError
from studio.ml.knobs import config_from_dict, config_to_dict, knobs_of, with_changes
from studio.ml.train_config import TrainConfig


def test_builtin_models_are_registered():
    names = registry.model_names()
    assert {"lstm", "gru", "rnn", "cnn"} <= set(names)
    assert names["gru"][0].name == "recurrent" and names["gru"][1] == {"cell": "gru"}
    assert names["cnn"][0].name == "coconet"
    fam = registry.create_family("gru", {"hidden": "64"})
    assert fam.config.cell == "gru" and fam.config.hidden == 64
    assert registry.model_name_of(fam) == "gru"
    with pytest.raises(UnknownModelError, match="cnn, gru, lstm"):
        registry.create_family("transformer")


def test_every_knob_has_help_default_and_range():
    configs = [TrainConfig] + [f.Config for f in registry.families().values()]
    for config in configs:
        for k in knobs_of(config):
            assert k.help.strip() and len(k.help) < 200, k.name
            assert k.choices or k.type is bool or k.type is str or \
                (k.low is not None and k.high is not None), k.name
            k.check(k.default)


def test_knobs_coerce_text_and_refuse_bad_values():
    lr = next(k for k in knobs_of(TrainConfig) if k.name == "lr")
    assert lr.coerce("3e-3") == 0.003 and lr.log and lr.option == "--lr"
    with pytest.raises(ConfigError, match="lr must be at most 10"):
        lr.coerce("50")
    with pytest.raises(ConfigError, match="a number"):
        lr.coerce("fast")
    with pytest.raises(ConfigError, match="optimizer must be one of sgd"):
        config_from_dict(TrainConfig, {"optimizer": "lbfgs"})
    with pytest.raises(ConfigError, match="unknown setting"):
        config_from_dict(TrainConfig, {"learning_rate": 1})
    c = with_changes(TrainConfig(), nesterov="yes", epochs="7")
    assert c.nesterov is True and c.epochs == 7
    assert config_from_dict(TrainConfig, config_to_dict(c)) == c


def test_a_new_family_module_is_discovered_without_other_changes(tmp_path, monkeypatch):
    (tmp_path / "toy_family.py").write_text(textwrap.dedent('''
        from dataclasses import dataclass
        from studio.ml.family import Family
        from studio.ml.knobs import knob

        @dataclass
        class ToyConfig:
            width: int = knob(4, low=1, high=8, help="How wide the toy is.")

        class Toy(Family):
            name = "toy"
            models = {"toy": {}, "wide-toy": {"width": 8}}
            title = "toy"
            Config = ToyConfig
    '''))
    monkeypatch.setattr(families_pkg, "__path__", [*families_pkg.__path__, str(tmp_path)])
    registry.families.cache_clear()
    try:
        assert registry.create_family("wide-toy").config.width == 8
        assert "toy" in registry.families()
    finally:
        monkeypatch.undo()
        registry.families.cache_clear()
        sys.modules.pop("studio.ml.families.toy_family", None)
    assert "toy" not in registry.families()
