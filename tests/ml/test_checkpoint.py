"""Model files: safetensors weights with the card inside (a JSON copy beside); loading verifies
them and refuses tampered, mismatched, foreign or pickled files with a clear message, and never
unpickles. Models of the older layout (card only beside) still load and are still checked."""

from __future__ import annotations

import json
import pickle

import pytest
import torch

from studio.ml import safetensors_header
from studio.ml.checkpoint import (
    card_path,
    load_checkpoint,
    read_card,
    save_checkpoint,
    weights_path,
)
from studio.ml.errors import CheckpointError, WrongFamilyError
from studio.ml.registry import create_family
from studio.paths import SHIPPED_MODELS_DIR
from tests.ml.conftest import TINY_CNN, TINY_LSTM


@pytest.fixture
def saved(tmp_path):
    family = create_family("gru", TINY_LSTM)
    torch.manual_seed(1)
    model = family.build()
    card = save_checkpoint(tmp_path / "melody", family, model, {"dataset": {"name": "jsb"}})
    return tmp_path / "melody", family, model, card


def test_round_trip_gives_the_same_model(saved):
    path, family, model, card = saved
    assert weights_path(path).exists() and card_path(path).exists()
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []
    loaded = load_checkpoint(str(path) + ".safetensors")
    assert loaded.card["family"] == "recurrent" and loaded.card["model"] == "gru"
    assert loaded.family.config == family.config and loaded.modes == ("melody", "continue")
    for (k, a), (k2, b) in zip(model.state_dict().items(), loaded.model.state_dict().items()):
        assert k == k2 and torch.equal(a, b)
    x = torch.randint(0, 130, (2, 9))
    pos = torch.arange(9).repeat(2, 1)
    model.eval()
    assert torch.equal(model(x, pos)[0], loaded.model(x, pos)[0])
    assert read_card(path)["versions"]["torch"] == torch.__version__
    assert card["weights"]["tensors"]["head.weight"]["shape"] == [130, 48]
    assert oct(weights_path(path).stat().st_mode & 0o777) != "0o600"


def test_a_changed_weights_file_is_refused(saved):
    path, *_ = saved
    data = bytearray(weights_path(path).read_bytes())
    data[-3] ^= 0x01  # one bit of one weight
    weights_path(path).write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="do not match their card"):
        load_checkpoint(path)


def _edit_inner_card(path, change) -> None:
    """Rewrite the card inside the weights file (the tensor bytes unchanged)."""
    data = weights_path(path).read_bytes()
    header, _ = safetensors_header.split(data)
    meta = dict(safetensors_header.metadata(header))
    card = json.loads(meta["studio_card"])
    change(card)
    meta["studio_card"] = json.dumps(card)
    weights_path(path).write_bytes(safetensors_header.with_metadata(data, meta))


def test_the_card_travels_inside_the_weights(saved, tmp_path):
    path, *_ = saved
    other = create_family("gru", {**TINY_LSTM, "hidden": 24})
    save_checkpoint(tmp_path / "other", other, other.build())
    # Another model's file copied over this one is that model, whatever the JSON copy says.
    weights_path(path).write_bytes(weights_path(tmp_path / "other").read_bytes())
    assert load_checkpoint(path).family.config.hidden == 24
    assert read_card(path)["config"]["hidden"] == 24
    # Another model's tensor bytes under this model's header are refused.
    data = weights_path(tmp_path / "other").read_bytes()
    _edit_inner_card(tmp_path / "other", lambda c: c["weights"].update(data_sha256="0" * 64))
    with pytest.raises(CheckpointError, match="do not match their card"):
        load_checkpoint(tmp_path / "other")
    assert data != weights_path(tmp_path / "other").read_bytes()


def test_a_card_edited_to_other_settings_is_refused(saved):
    path, *_ = saved
    _edit_inner_card(path, lambda c: c["config"].update(hidden=64))
    with pytest.raises(CheckpointError, match="do not fit a recurrent model"):
        load_checkpoint(path)
    _edit_inner_card(path, lambda c: c["config"].update(hidden=4096.5))
    with pytest.raises(CheckpointError, match="hidden must be a whole number"):
        load_checkpoint(path)


def test_a_checkpoint_of_another_family_is_refused(saved):
    path, *_ = saved
    with pytest.raises(WrongFamilyError, match="this is a gru model .*not a cnn model"):
        load_checkpoint(path, family="cnn")
    assert load_checkpoint(path, family="lstm").card["model"] == "gru"  # same family


def test_missing_or_foreign_files_are_refused(saved, tmp_path):
    path, *_ = saved
    with pytest.raises(CheckpointError, match="no model card"):
        load_checkpoint(tmp_path / "nothing")
    card_path(path).write_text("{not json")  # only a copy: the card inside is the card
    assert load_checkpoint(path).card["model"] == "gru"
    _edit_inner_card(path, lambda c: c.update(format="something else"))
    with pytest.raises(CheckpointError, match="not a Studio model card"):
        load_checkpoint(path)


def test_shipped_models_of_the_older_layout_still_load_and_are_checked(tmp_path):
    shipped = sorted(SHIPPED_MODELS_DIR.glob("*.safetensors"))
    assert len(shipped) >= 4
    older = [w for w in shipped if "studio_card" not in
             safetensors_header.metadata(safetensors_header.read_header(w))]
    assert older  # models shipped before the card moved inside the file (the JSON card only)
    for weights in shipped:  # both layouts load
        assert load_checkpoint(weights).card["weights"]["file"] == weights.name
    copy = tmp_path / older[0].name
    copy.write_bytes(older[0].read_bytes())
    card = json.loads(card_path(older[0]).read_text())
    card["config"] = {**card["config"], "no_such_knob": 1}
    card_path(copy).write_text(json.dumps(card))
    with pytest.raises(CheckpointError):
        load_checkpoint(copy)
    card_path(copy).write_text("{not json")
    with pytest.raises(CheckpointError, match="unreadable model card"):
        load_checkpoint(copy)


class _Exploit:
    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_posing_as_weights_is_never_unpickled(tmp_path):
    family = create_family("cnn", TINY_CNN)
    save_checkpoint(tmp_path / "evil", family, family.build())
    exploit = _Exploit()
    exploit.marker = tmp_path / "pwned"
    payload = pickle.dumps({"conv_in.weight": exploit})
    weights_path(tmp_path / "evil").write_bytes(payload)
    card = json.loads(card_path(tmp_path / "evil").read_text())
    import hashlib

    card["weights"]["sha256"] = hashlib.sha256(payload).hexdigest()  # a forged card, too
    del card["weights"]["data_sha256"]
    card_path(tmp_path / "evil").write_text(json.dumps(card))
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        load_checkpoint(tmp_path / "evil")
    assert not exploit.marker.exists()


def test_tied_weights_can_be_saved(tmp_path):
    family = create_family("lstm", TINY_LSTM)
    model = family.build()
    state = dict(model.state_dict())
    state["tied"] = state["head.bias"]  # the same tensor twice, as tied weights are
    card = save_checkpoint(tmp_path / "tied", family, state)
    assert "tied" in card["weights"]["tensors"]


def test_a_model_of_an_earlier_representation_says_to_train_it_again(saved):
    """A model made by an earlier version of Studio whose way of reading music has changed
    (its weights no longer fit): the message names both representations and what to do."""
    path, *_ = saved
    _edit_inner_card(path, lambda c: (c["config"].update(hidden=64),
                                      c["representation"].update(name="melody-tokens/0")))
    with pytest.raises(CheckpointError, match="reads music as melody-tokens/0, this version "
                       "of Studio as melody-tokens/1: train it again"):
        load_checkpoint(path)
