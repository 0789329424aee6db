"""`studio analyze` and `studio map` on real data: tables, PNGs, skipped files, clear errors."""

from __future__ import annotations

import shutil

import pytest

from studio.cli import main
from tests.analysis.conftest import PIANO_FILES


@pytest.fixture
def piano_folder(tmp_path):
    folder = tmp_path / "piano"
    (folder / "sub").mkdir(parents=True)
    for i, p in enumerate(PIANO_FILES[:8]):
        shutil.copy(p, (folder / "sub" if i % 2 else folder) / p.name)
    (folder / "broken.mid").write_bytes(b"MThd this is not a MIDI file")
    (folder / "notes.txt").write_text("not music")
    return folder


def test_analyze_prints_the_critics_side_by_side(piano_folder, capsys):
    assert main(["analyze", "jsb", str(piano_folder), "--limit", "30", "--folds", "4",
                 "--max-per-piece", "6"]) == 0
    out, err = capsys.readouterr()
    assert "piano: skipped broken:" in err
    assert "piano: 8 pieces" in err and "jsb: 30 pieces" in err
    header = out.splitlines()[0]
    assert "hand-crafted" in header and "melody VAE code (vae-melody)" in header  # the default
    for name in ("SVM, linear kernel", "SVM, polynomial kernel", "SVM, RBF kernel",
                 "k nearest neighbours", "small MLP"):
        assert name in out
    assert "jsb P/R" in out and "piano P/R" in out and "Confusion matrices" in out
    best = float(out.split("best: ")[1].split("\n")[0].rsplit(", ", 1)[1].rstrip("%)"))
    chance = float(out.split("chance: ")[1].split("%")[0])
    assert best > chance + 15


@pytest.mark.parametrize("argv, message", [
    (["analyze", "jsb"], "give two or more datasets"),
    (["analyze", "jsb", "no-such-dataset"], "no dataset named 'no-such-dataset'"),
    (["analyze", "jsb", "/no/such/folder"], "no such file or folder"),
    (["map", "jsb", "-o", "/no/such/folder/map.png", "--limit", "5"], "does not exist"),
    (["map", "jsb", "-o", "x.png", "--size", "big"], "--size must look like"),
    (["analyze", "jsb", "/no/such/folder", "--learned", "nope"], "no model called 'nope'"),
    (["map", "jsb", "-o", "x.png", "--features", "minibach-harmonizer"], "only melody"),
])
def test_bad_input_gets_one_clear_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert last.startswith("studio: error:") and message in last and "Traceback" not in err


def test_a_folder_of_nothing_usable_is_refused_clearly(tmp_path, capsys):
    (tmp_path / "a.mid").write_bytes(b"MThd")
    (tmp_path / "b.midi").write_bytes(b"")
    assert main(["analyze", "jsb", str(tmp_path), "--no-learned"]) == 2
    err = capsys.readouterr().err
    assert "nothing usable in" in err and "all 2 pieces" in err and "the file is empty" in err


def test_analyze_too_few_pieces_for_the_folds(tmp_path, capsys):
    for p in PIANO_FILES[:3]:
        shutil.copy(p, tmp_path / p.name)
    assert main(["analyze", "jsb", str(tmp_path), "--limit", "20", "--no-learned"]) == 2
    assert "use 3 folds or fewer" in capsys.readouterr().err


def test_map_writes_a_png_without_a_display(piano_folder, tmp_path, capsys):
    from PySide6.QtGui import QColor, QImage

    from studio.ui.style_map.style_map_colours import PALETTE

    out = tmp_path / "map.png"
    assert main(["map", "jsb", str(piano_folder), "--limit", "30", "-o", str(out),
                 "--size", "900x600"]) == 0
    assert "wrote" in capsys.readouterr().out
    image = QImage(str(out))
    assert (image.width(), image.height()) == (900, 600)
    seen = {image.pixelColor(x, y).name() for x in range(0, 900, 2) for y in range(0, 600, 2)}
    for colour in PALETTE[:2]:  # both datasets' points are drawn
        assert QColor(colour).name() in seen
    keyed = tmp_path / "keys.png"
    assert main(["map", "jsb", "--limit", "20", "--method", "tsne", "--colour", "key",
                 "--features", "learned",
                 "--bars", "0", "-o", str(keyed)]) == 0
    assert QImage(str(keyed)).width() == 1200


def test_analyze_and_map_with_the_lstm_hidden_state(piano_folder, tmp_path, capsys):
    from PySide6.QtGui import QImage

    assert main(["analyze", "jsb", str(piano_folder), "--limit", "20", "--folds", "3",
                 "--max-per-piece", "4", "--learned", "lstm-melody"]) == 0
    out = capsys.readouterr().out
    assert "LSTM hidden state (lstm-melody)" in out.splitlines()[0]
    mlp = out.split("small MLP")[1].split("%")[0].split()[-1]
    chance = float(out.split("chance: ")[1].split("%")[0])
    assert float(mlp) > chance + 10
    png = tmp_path / "lstm.png"
    assert main(["map", "jsb", str(piano_folder), "--limit", "20", "--max-per-piece", "4",
                 "--features", "lstm-melody", "-o", str(png), "--size", "600x400"]) == 0
    assert "LSTM hidden state (lstm-melody)" in capsys.readouterr().out
    assert QImage(str(png)).width() == 600
