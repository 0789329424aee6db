"""Model files: `NAME.safetensors` (the weights, with the model card inside) beside `NAME.json`
(a copy of the card for people and other tools).

Why safetensors: a PyTorch `.pt` file is a pickle, and unpickling runs code, so a model file
shared by someone else could do anything on the musician's computer. A safetensors file is a
JSON header plus raw tensor bytes: loading it cannot run code. Nothing here ever unpickles.

The card records what the weights are (family, model name, config, representation), what they
were trained on (dataset name and hash, split sizes, training settings, the command line) and
how well they did (metrics per epoch), plus the studio and torch versions, every tensor's name
and shape and the SHA-256 of the tensor bytes. Loading checks all of them and refuses, with a
clear message, weights that were changed, NaN or infinite weights, or a card whose settings do
not fit the weights.

One file, one commit. The card lives in the safetensors header (`studio_card` in its metadata),
so a model is a single file written with one atomic rename (`studio.storage`): a kill at any
moment leaves the old model or the new one, never new weights under an old card (with two
files written one after the other, 1 kill in 31 left a model that refused to load). The JSON
beside is written after, as a copy; when it is missing or stale the card inside the weights
wins. A folder committed by one rename was the other choice, but replacing a folder is two
renames on POSIX and it would change the `NAME.safetensors` layout every tool and shipped model
uses. Models written before the card moved inside (those shipped in `models/`) have no
`studio_card`: their JSON card is the card, checked against the SHA-256 of the whole file.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from studio import __version__
from studio.ml import safetensors_header
from studio.ml.errors import CheckpointError, StudioMLError, WrongFamilyError
from studio.ml.family import Family
from studio.ml.knobs import config_from_dict, config_to_dict
from studio.ml.registry import family_class, model_name_of
from studio.storage import (
    JsonInputError,
    loads_bounded,
    read_json,
    read_regular,
    write_atomically,
)

CARD_FORMAT = "studio-model/1"
WEIGHTS_SUFFIX = ".safetensors"
CARD_SUFFIX = ".json"
CARD_KEY = "studio_card"
MAX_CARD_BYTES = 8 * 2**20
# The largest weights file loaded (the shipped models are 1-13 MB): a file that claims to be a
# model but would fill the memory is refused before it is read.
MAX_WEIGHTS_BYTES = int(os.environ.get("STUDIO_MAX_MODEL_BYTES", 4 * 2**30))


def model_stem(path: str | os.PathLike) -> Path:
    """`dir/NAME` from `dir/NAME`, `dir/NAME.safetensors` or `dir/NAME.json`."""
    p = Path(path)
    if p.name.endswith(".state" + WEIGHTS_SUFFIX):
        return p.with_name(p.name[: -len(".state" + WEIGHTS_SUFFIX)])
    return p.with_suffix("") if p.suffix in (WEIGHTS_SUFFIX, CARD_SUFFIX) else p


def weights_path(path: str | os.PathLike) -> Path:
    stem = model_stem(path)
    return stem.with_name(stem.name + WEIGHTS_SUFFIX)


def card_path(path: str | os.PathLike) -> Path:
    stem = model_stem(path)
    return stem.with_name(stem.name + CARD_SUFFIX)


def versions() -> dict[str, str]:
    import safetensors

    return {"studio": __version__, "torch": torch.__version__,
            "safetensors": safetensors.__version__, "python": platform.python_version()}


def tensor_table(tensors: dict[str, torch.Tensor]) -> dict[str, dict[str, Any]]:
    return {k: {"shape": list(v.shape), "dtype": str(v.dtype).removeprefix("torch.")}
            for k, v in sorted(tensors.items())}


def _sha256(data: bytes | memoryview) -> str:
    return hashlib.sha256(data).hexdigest()


def _card_text(card: dict[str, Any]) -> str:
    try:
        return json.dumps(card, indent=1, sort_keys=False, allow_nan=False)
    except ValueError as e:
        raise CheckpointError(f"the model card cannot be written ({e})") from None


def write_model_files(path: str | os.PathLike, data: bytes, card: dict[str, Any]) -> dict:
    """Commit a model: `data` (a safetensors file's bytes) with `card` inside its header, in one
    atomic write of NAME.safetensors, then the NAME.json copy. Returns the card as the copy has
    it (with the SHA-256 and size of the whole file)."""
    weights = weights_path(path)
    header, start = safetensors_header.split(data)
    tensors = {k: v for k, v in header.items() if k != "__metadata__"}
    table = {k: {"shape": list(v["shape"]),
                 "dtype": _DTYPE_NAMES.get(v["dtype"], v["dtype"].lower())}
             for k, v in sorted(tensors.items())}
    inner = dict(card, name=weights.stem)
    inner["weights"] = {"file": weights.name, "tensors": table,
                        "data_sha256": _sha256(memoryview(data)[start:])}
    meta = {"format": CARD_FORMAT, "family": str(card.get("family", "")),
            CARD_KEY: _card_text(inner)}
    whole = safetensors_header.with_metadata(data, meta)
    write_atomically(weights, whole, make_folder=True)
    copy = dict(inner, weights=dict(inner["weights"], sha256=_sha256(whole), bytes=len(whole)))
    write_atomically(card_path(path), (_card_text(copy) + "\n").encode())
    return copy


# safetensors' dtype names -> torch's (as `tensor_table` writes them)
_DTYPE_NAMES = {"F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16",
                "I64": "int64", "I32": "int32", "I16": "int16", "I8": "int8", "U8": "uint8",
                "BOOL": "bool"}


def save_checkpoint(path: str | os.PathLike, family: Family,
                    weights: torch.nn.Module | dict[str, torch.Tensor],
                    card: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write the weights (a module or its state dict) and the card (`card` adds or overrides
    fields) as one model file plus its JSON copy; returns the card as written."""
    state = weights.state_dict() if isinstance(weights, torch.nn.Module) else weights
    # clones: tied weights (one tensor under two names) would otherwise share memory, which
    # safetensors refuses
    tensors = {k: v.detach().to("cpu").clone().contiguous() for k, v in state.items()}
    data = save_safetensors(tensors)
    full = {"format": CARD_FORMAT, "family": family.name,
            "model": model_name_of(family), "title": family.title,
            "modes": list(family.modes), "config": config_to_dict(family.config),
            "representation": family.representation_card(), **(card or {}),
            "versions": versions()}
    return write_model_files(path, data, full)


def rewrite_card(source: str | os.PathLike, target: str | os.PathLike,
                 card: dict[str, Any]) -> dict[str, Any]:
    """Write the model at `source` to `target` with another card (a rename, a grid's best run);
    the tensor bytes are copied unchanged."""
    data = weights_path(source).read_bytes()
    card = {k: v for k, v in card.items() if k != "weights"}
    return write_model_files(target, data, card)


def _check_card(card: Any, where: Path) -> dict[str, Any]:
    if not isinstance(card, dict) or card.get("format") != CARD_FORMAT:
        raise CheckpointError(f"{where}: not a Studio model card (format "
                              f"{card.get('format') if isinstance(card, dict) else None!r})")
    for key in ("family", "config", "weights"):
        if key not in card:
            raise CheckpointError(f"{where}: the model card lacks {key!r}")
    if not isinstance(card["weights"], dict) or not isinstance(card["config"], dict):
        raise CheckpointError(f"{where}: the model card is damaged (weights or config)")
    if not isinstance(card["family"], str):
        raise CheckpointError(f"{where}: the model card is damaged (family)")
    return card


def _embedded_card(header: dict[str, Any], weights: Path) -> dict[str, Any] | None:
    text = safetensors_header.metadata(header).get(CARD_KEY)
    if text is None:
        return None
    try:
        return _check_card(loads_bounded(text), weights)
    except JsonInputError as e:
        raise CheckpointError(f"{weights}: the model card inside is unreadable ({e})") from None


def _json_card(path: str | os.PathLike) -> dict[str, Any]:
    cards = card_path(path)
    try:
        card = read_json(cards, max_bytes=MAX_CARD_BYTES)
    except FileNotFoundError:
        raise CheckpointError(f"{cards}: no model card (a NAME.json must sit beside "
                              "NAME.safetensors)") from None
    except JsonInputError as e:
        raise CheckpointError(f"{cards}: unreadable model card ({e.reason})") from None
    return _check_card(card, cards)


def read_card(path: str | os.PathLike) -> dict[str, Any]:
    """The card of a model file, checked for the fields loading needs: the one inside the
    weights file (reading only its header) or, for older models, the JSON card beside it."""
    weights = weights_path(path)
    try:
        header = safetensors_header.read_header(weights)
    except (OSError, ValueError):
        header = None  # missing or unreadable weights: the JSON card says what it can
    if header is not None:
        card = _embedded_card(header, weights)
        if card is not None:
            return card
    return _json_card(path)


@dataclass
class LoadedModel:
    """A model ready to generate: its family (with config), the module (eval mode), its card."""

    family: Family
    model: torch.nn.Module
    card: dict[str, Any]
    path: Path

    @property
    def name(self) -> str:
        return str(self.card.get("name", self.path.stem))

    @property
    def modes(self) -> tuple[str, ...]:
        return self.family.modes


def family_from_card(card: dict[str, Any], where: str = "") -> Family:
    try:
        fam = family_class(card["family"])
        config = card["config"]
        upgrade = getattr(fam, "upgrade_config", None)
        if upgrade is not None and isinstance(config, dict):
            config = upgrade(config)
        return fam(config_from_dict(fam.Config, config, strict=True))
    except StudioMLError as e:
        raise CheckpointError(f"{where}: {e}") from None


def _nonfinite_tensor(tensors: dict[str, torch.Tensor]) -> str | None:
    for name, t in tensors.items():
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            return name
    return None


def load_checkpoint(path: str | os.PathLike, *, family: str | None = None,
                    device: str | torch.device = "cpu") -> LoadedModel:
    """Load and verify a model file. `family` (a family or model name) refuses checkpoints of
    another family. Raises CheckpointError / WrongFamilyError with the reason."""
    weights = weights_path(path)
    try:
        data = read_regular(weights, MAX_WEIGHTS_BYTES)
        if len(data) > MAX_WEIGHTS_BYTES:
            raise CheckpointError(f"{weights}: the file is over the "
                                  f"{MAX_WEIGHTS_BYTES / 2**30:g} GiB limit of a model file")
    except FileNotFoundError:
        _json_card(path)  # no card either: says so
        raise CheckpointError(f"{weights}: the weights file is missing") from None
    except OSError as e:
        raise CheckpointError(f"{weights}: cannot read the file ({e.strerror or e})") from None
    try:
        header, start = safetensors_header.split(data)
    except ValueError as e:
        header, start = None, 0
        problem = str(e)
    card = _embedded_card(header, weights) if header is not None else None
    if card is not None:
        expected = card["weights"]
        if _sha256(memoryview(data)[start:]) != expected.get("data_sha256"):
            raise CheckpointError(f"{weights}: the weights do not match their card (the file "
                                  "was changed); refusing to load it")
    else:  # a model from before the card moved inside: the JSON card beside it
        card = _json_card(path)
        expected = card["weights"]
        if _sha256(data) != expected.get("sha256"):
            raise CheckpointError(f"{weights}: the weights do not match their card (the file "
                                  "was changed, or belongs to another model); refusing to load it")
    if family is not None:
        want = family_class(family).name
        if card["family"] != want:
            raise WrongFamilyError(f"{weights.stem}: this is a {card.get('model', card['family'])}"
                                   f" model ({card['family']} family), not a {family} model")
    try:
        if header is None:
            raise ValueError(problem)
        tensors = load_safetensors(data)
    except Exception as e:  # a corrupt header, even with a matching hash
        raise CheckpointError(f"{weights}: not a readable safetensors file ({e})") from None
    if tensor_table(tensors) != expected.get("tensors"):
        raise CheckpointError(f"{weights}: the tensors differ from those listed in the card")
    bad = _nonfinite_tensor(tensors)
    if bad is not None:
        raise CheckpointError(f"{weights}: the weights hold NaN or infinite values (in {bad}); "
                              "the model is broken and cannot generate")
    fam = family_from_card(card, str(weights))
    model = fam.build()
    wanted = tensor_table(model.state_dict())
    if wanted != tensor_table(tensors):
        missing = sorted(set(wanted) ^ set(tensors))
        detail = f"names differ: {', '.join(missing[:4])}" if missing else "shapes differ"
        made = (card.get("representation") or {}).get("name")
        if made and made != getattr(fam, "representation", made):
            detail += (f"; it reads music as {made}, this version of Studio as "
                       f"{fam.representation}: train it again from its card's command")
        raise CheckpointError(f"{weights}: the weights do not fit a {card['family']} model with "
                              f"the card's settings ({detail})")
    model.load_state_dict(tensors, strict=True)
    return LoadedModel(fam, model.to(device).eval(), card, weights)
