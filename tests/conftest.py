"""Shared test set-up: Qt runs offscreen; the shared real-world data is found beside the checkout."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("STUDIO_SHARED_DATA", REPO.parent / "shared" / "data"))
MIDI_DIR = SHARED / "midi"
JSB_NPZ = REPO / "resources" / "data" / "jsb" / "jsb_chorales_16th.npz"


def shared_midi_files() -> list[Path]:
    files = sorted(p for p in MIDI_DIR.rglob("*") if p.suffix.lower() in (".mid", ".midi"))
    if not files:
        raise RuntimeError(f"the shared MIDI test files are missing from {MIDI_DIR}")
    return files


@pytest.fixture(scope="session")
def midi_files() -> list[Path]:
    return shared_midi_files()


@pytest.fixture(scope="session")
def jsb():
    import numpy as np

    return dict(np.load(JSB_NPZ))


@pytest.fixture(autouse=True)
def _isolate_user_dirs(tmp_path_factory, monkeypatch):
    """Each test gets its own user data/config folders, so nothing touches the real home."""
    base = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("STUDIO_HOME", str(base))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(base / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(base / "data"))
