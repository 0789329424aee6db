"""The layer contracts of pyproject.toml hold: no Qt below studio.ui, ui -> ml -> data -> midi -> music,
and studio.storage below them all."""

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_import_contracts_hold():
    exe = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(exe), "--no-cache"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    kept = re.search(r"Contracts: (\d+) kept, 0 broken", result.stdout)
    assert kept and int(kept.group(1)) >= 3, result.stdout  # layers, no Qt, storage below all


def test_core_imports_without_qt():
    code = ("import sys; import studio.music, studio.midi, studio.data, studio.ml, studio.cli; "
            "bad = [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph', 'studio.ui'))];"
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
