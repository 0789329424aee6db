"""Model files: `NAME.safetensors` (the weights) beside `NAME.json` (the model card).

Why safetensors: a PyTorch `.pt` file is a pickle, and unpickling runs code, so a model file
shared by someone else could do anything on the musician's computer. A safetensors file is a
JSON header plus raw tensor bytes: loading it cannot run code. Nothing here ever unpickles.

The card records what the weights are (family, model name, config, representation), what they
were trained on (dataset name and hash, split sizes, training settings, the command line) and
how well they did (metrics per epoch), plus the studio and torch versions. It also holds the
SHA-256 of the weights file and every tensor's name and shape: loading checks all of them and
refuses, with a clear message, a pair that does not match or was changed. Both files are written
atomically (temporary file, fsync, rename), so a crash never leaves half a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from studio import __version__
from studio.ml.errors import CheckpointError, StudioMLError, WrongFamilyError
from studio.ml.family import Family
from studio.ml.knobs import config_from_dict, config_to_dict
from studio.ml.registry import family_class, model_name_of

CARD_FORMAT = "studio-model/1"
WEIGHTS_SUFFIX = ".safetensors"
CARD_SUFFIX = ".json"
_UMASK = os.umask(0o022)
os.umask(_UMASK)  # read once: files get the permissions the user's umask gives


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


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that readers see the old file or the whole new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def versions() -> dict[str, str]:
    import safetensors

    return {"studio": __version__, "torch": torch.__version__,
            "safetensors": safetensors.__version__, "python": platform.python_version()}


def tensor_table(tensors: dict[str, torch.Tensor]) -> dict[str, dict[str, Any]]:
    return {k: {"shape": list(v.shape), "dtype": str(v.dtype).removeprefix("torch.")}
            for k, v in sorted(tensors.items())}


def save_checkpoint(path: str | os.PathLike, family: Family,
                    weights: torch.nn.Module | dict[str, torch.Tensor],
                    card: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write the weights (a module or its state dict) and the card (`card` adds or overrides
    fields); returns the card as written."""
    state = weights.state_dict() if isinstance(weights, torch.nn.Module) else weights
    # clones: tied weights (one tensor under two names) would otherwise share memory, which
    # safetensors refuses
    tensors = {k: v.detach().to("cpu").clone().contiguous() for k, v in state.items()}
    data = save_safetensors(tensors, metadata={"format": CARD_FORMAT, "family": family.name})
    weights, cards = weights_path(path), card_path(path)
    full = {"format": CARD_FORMAT, "name": weights.stem, "family": family.name,
            "model": model_name_of(family), "title": family.title,
            "modes": list(family.modes), "config": config_to_dict(family.config),
            "representation": family.representation_card(), **(card or {}),
            "versions": versions(),
            "weights": {"file": weights.name, "sha256": hashlib.sha256(data).hexdigest(),
                        "bytes": len(data), "tensors": tensor_table(tensors)}}
    text = json.dumps(full, indent=1, sort_keys=False, allow_nan=False)
    atomic_write_bytes(weights, data)
    atomic_write_bytes(cards, (text + "\n").encode())
    return full


def read_card(path: str | os.PathLike) -> dict[str, Any]:
    """The card of a model file, checked for the fields loading needs."""
    cards = card_path(path)
    if not cards.exists():
        raise CheckpointError(f"{cards}: no model card (a NAME.json must sit beside "
                              "NAME.safetensors)")
    try:
        card = json.loads(cards.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{cards}: unreadable model card ({e})") from None
    if not isinstance(card, dict) or card.get("format") != CARD_FORMAT:
        raise CheckpointError(f"{cards}: not a Studio model card (format "
                              f"{card.get('format') if isinstance(card, dict) else None!r})")
    for key in ("family", "config", "weights"):
        if key not in card:
            raise CheckpointError(f"{cards}: the model card lacks {key!r}")
    return card


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


def load_checkpoint(path: str | os.PathLike, *, family: str | None = None,
                    device: str | torch.device = "cpu") -> LoadedModel:
    """Load and verify a model file. `family` (a family or model name) refuses checkpoints of
    another family. Raises CheckpointError / WrongFamilyError with the reason."""
    card = read_card(path)
    weights = weights_path(path)
    if family is not None:
        want = family_class(family).name
        if card["family"] != want:
            raise WrongFamilyError(f"{weights.stem}: this is a {card.get('model', card['family'])}"
                                   f" model ({card['family']} family), not a {family} model")
    try:
        data = weights.read_bytes()
    except FileNotFoundError:
        raise CheckpointError(f"{weights}: the weights file is missing") from None
    expected = card["weights"]
    if hashlib.sha256(data).hexdigest() != expected.get("sha256"):
        raise CheckpointError(f"{weights}: the weights do not match their card (the file was "
                              "changed, or belongs to another model); refusing to load it")
    try:
        tensors = load_safetensors(data)
    except Exception as e:  # a corrupt header, even with a matching hash
        raise CheckpointError(f"{weights}: not a readable safetensors file ({e})") from None
    if tensor_table(tensors) != expected.get("tensors"):
        raise CheckpointError(f"{weights}: the tensors differ from those listed in the card")
    fam = family_from_card(card, str(weights))
    model = fam.build()
    wanted = tensor_table(model.state_dict())
    if wanted != tensor_table(tensors):
        missing = sorted(set(wanted) ^ set(tensors))
        detail = f"names differ: {', '.join(missing[:4])}" if missing else "shapes differ"
        raise CheckpointError(f"{weights}: the weights do not fit a {card['family']} model with "
                              f"the card's settings ({detail})")
    model.load_state_dict(tensors, strict=True)
    return LoadedModel(fam, model.to(device).eval(), card, weights)
