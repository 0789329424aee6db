"""The import contracts of pyproject.toml hold: no Qt below studio.ui, ui -> ml -> data -> midi ->
music, studio.storage below them all, the ui features independent of each other, and sibling
packages and modules importing each other in one direction only."""

import subprocess
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: import-linter's own dependency reads TOML
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]
UI_FEATURES = {"editor", "playback", "datasets", "training", "generation", "style_map", "project"}


def _contracts() -> list[dict]:
    with open(REPO / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["tool"]["importlinter"]["contracts"]


def test_import_contracts_hold():
    exe = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(exe), "--no-cache"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    contracts = _contracts()
    for contract in contracts:
        assert f"{contract['name']} KEPT" in result.stdout, result.stdout
    assert f"Contracts: {len(contracts)} kept, 0 broken" in result.stdout


def test_the_contracts_cover_layers_features_and_cycles():
    by_type = {c["type"]: c for c in _contracts()}
    assert by_type["layers"]["layers"] == ["studio.ui", "studio.ml", "studio.data", "studio.midi",
                                           "studio.music"]
    features = {m.removeprefix("studio.ui.") for m in by_type["independence"]["modules"]}
    on_disk = {p.name for p in (REPO / "studio" / "ui").iterdir()
               if (p / "__init__.py").is_file()}
    assert features == UI_FEATURES == on_disk  # a new ui package is a feature, under the contract
    assert by_type["acyclic_siblings"]["ancestors"] == ["studio"]  # and every package below


def test_core_imports_without_qt():
    code = ("import sys; import studio.music, studio.midi, studio.data, studio.ml, studio.cli; "
            "bad = [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph', 'studio.ui'))];"
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
