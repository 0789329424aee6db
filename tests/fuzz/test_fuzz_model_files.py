"""Fuzz: hostile model files in the library, derived deterministically from the shipped models
(older layout: the card beside) and from a model of the current layout (the card inside the
weights). Listing never raises and every field a window shows is readable; loading either
gives a working model or a `StudioMLError` that names the file in one line."""

from __future__ import annotations

import random

import pytest

from studio import paths
from studio.ml import safetensors_header
from studio.ml.checkpoint import load_checkpoint, save_checkpoint
from studio.ml.errors import StudioMLError
from studio.ml.library import list_models
from studio.ml.registry import create_family
from tests.fuzz.cases import card_seeds, mutate_bytes, mutate_json
from tests.ml.conftest import TINY_LSTM

CASES = 60
BATCH = 15


def _cases(current: tuple[bytes, bytes]) -> list[tuple[str, bytes | None, bytes]]:
    """(kind, card JSON or None, weights bytes): a quarter each of mutated JSON cards of
    shipped models, mutated weights of shipped models, mutated inner cards and mutated bytes
    of a current-layout model."""
    rng = random.Random(19)
    seeds = card_seeds()
    out = []
    for i in range(CASES):
        stem, card, weights = seeds[i % len(seeds)]
        kind = i % 4
        if kind == 0:
            out.append(("shipped card", mutate_json(card, rng), weights))
        elif kind == 1:
            out.append(("shipped weights", card, mutate_bytes(weights[:4096], rng)
                        + weights[4096:]))
        elif kind == 2:
            header, _ = safetensors_header.split(current[1])
            meta = dict(safetensors_header.metadata(header))
            meta["studio_card"] = mutate_json(meta["studio_card"].encode(), rng).decode(
                "utf-8", "replace")
            try:
                data = safetensors_header.with_metadata(current[1], meta)
            except UnicodeEncodeError:
                data = current[1]
            out.append(("inner card", current[0], data))
        else:
            out.append(("current weights", current[0],
                        mutate_bytes(current[1][:2048], rng) + current[1][2048:]))
    return out


@pytest.fixture(scope="module")
def current_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("current")
    family = create_family("gru", TINY_LSTM)
    save_checkpoint(folder / "tiny", family, family.build(), {"dataset": {"name": "jsb"}})
    return (folder / "tiny.json").read_bytes(), (folder / "tiny.safetensors").read_bytes()


@pytest.mark.parametrize("batch", range(CASES // BATCH))
def test_hostile_model_files(batch, current_model):
    library = paths.user_models_dir()
    for i, (kind, card, weights) in enumerate(_cases(current_model)[batch * BATCH:
                                                                    (batch + 1) * BATCH]):
        stem = f"case{i}"
        if card is not None:
            (library / f"{stem}.json").write_bytes(card)
        (library / f"{stem}.safetensors").write_bytes(weights)
        entries = {e.name: e for e in list_models()}
        entry = entries[stem]
        shown = (entry.model, entry.family, entry.dataset, entry.modes, entry.created,
                 entry.best_metrics, entry.size_bytes, entry.problem)
        assert all(x is not None for x in shown)
        try:
            loaded = load_checkpoint(library / stem)
        except StudioMLError as e:
            text = str(e)
            assert "\n" not in text and stem in text, (kind, text)
            continue
        assert loaded.model is not None and loaded.modes, kind
