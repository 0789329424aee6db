"""Where Studio keeps the user's things: datasets, trained models, recovery files.

`STUDIO_HOME` overrides everything (the tests set it to a temporary folder); otherwise the
platform's user data folder is used (XDG on Linux, Application Support on macOS, APPDATA on
Windows). Shipped, read-only things live in the repository: `models/` and `resources/`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
RESOURCES_DIR = REPO_ROOT / "resources"
SHIPPED_MODELS_DIR = REPO_ROOT / "models"


def user_data_dir() -> Path:
    if os.environ.get("STUDIO_HOME"):
        base = Path(os.environ["STUDIO_HOME"])
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support" / "Studio"
    elif sys.platform == "win32":
        base = Path(os.environ.get("APPDATA", Path.home())) / "Studio"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "studio"
    base.mkdir(parents=True, exist_ok=True)
    return base


def _sub(name: str) -> Path:
    p = user_data_dir() / name
    p.mkdir(parents=True, exist_ok=True)
    return p


def user_datasets_dir() -> Path:
    return _sub("datasets")


def user_models_dir() -> Path:
    return _sub("models")


def recovery_dir() -> Path:
    """The autosaves; lock files left by killed sessions without an autosave are swept."""
    from studio.storage.session_locks import remove_orphan_locks

    folder = _sub("recovery")
    remove_orphan_locks(folder)
    return folder


def runs_dir() -> Path:
    """Training runs: logs and metrics of every run, for comparing curves."""
    return _sub("runs")
