"""`studio generate` end to end: real MIDI in, MIDI files out, variations, one-line errors."""

from __future__ import annotations

import pytest

from studio.cli import main
from studio.commands.generate import parse_key, parse_range
from studio.midi import read_song, write_song
from tests.ml.generation_testing import MIDI_DIR, melody_song


def test_harmonize_a_melody_file(tmp_path, capsys):
    source = tmp_path / "melody.mid"
    write_song(melody_song(0, 4), source)
    # A missing folder is refused (as render and map do), before any generation.
    assert main(["generate", "harmonize", str(source), "-o", str(tmp_path / "out" / "h.mid"),
                 "--seed", "3", "--count", "2"]) == 2
    err = capsys.readouterr().err
    assert f"the folder {tmp_path / 'out'} does not exist" in err and err.count("\n") == 1
    (tmp_path / "out").mkdir()
    assert main(["generate", "harmonize", str(source), "-o", str(tmp_path / "out" / "h.mid"),
                 "--seed", "3", "--count", "2"]) == 0
    out = capsys.readouterr().out
    for i in (1, 2):
        song = read_song(tmp_path / "out" / f"h-{i}.mid")
        assert [t.name for t in song.tracks] == ["Melody", "Alto", "Tenor", "Bass"]
        assert all(t.notes for t in song.tracks)
    assert out.count("originality:") == 2 and out.count("style score") == 2


def test_melody_without_input_and_infill_of_real_bars(tmp_path, capsys):
    tune = tmp_path / "tune.mid"
    assert main(["generate", "melody", "-o", str(tune), "--bars", "4", "--key", "A minor",
                 "--range", "C4-A5", "--seed", "1"]) == 0
    notes = read_song(tune).tracks[0].notes
    assert notes and all(60 <= n.pitch <= 81 and n.pitch % 12 in (9, 11, 0, 2, 4, 5, 7, 8)
                         for n in notes)
    out = tmp_path / "fill.mid"
    entertainer = MIDI_DIR / "joplin" / "TheEntertainer.mid"
    assert main(["generate", "infill", str(entertainer), "-o", str(out), "--track", "2",
                 "--from-bar", "5", "--to-bar", "6", "--seed", "2"]) == 0
    before, after = read_song(entertainer), read_song(out)
    bar = 960  # 2/4
    for a, b in zip(before.tracks, after.tracks):
        assert sorted(n.key() for n in a.notes if not 4 * bar <= n.start < 6 * bar) == \
            sorted(n.key() for n in b.notes if not 4 * bar <= n.start < 6 * bar)
    assert "Infill: new bass, bars 5-6" in capsys.readouterr().out


def test_errors_are_one_line(tmp_path, capsys):
    source = tmp_path / "melody.mid"
    write_song(melody_song(1, 2), source)
    cases = [
        (["harmonize", str(source), "--track", "5"], "there is no track 5"),
        (["harmonize", str(source), "--key", "H minor"], "cannot read the key"),
        (["harmonize", str(source), "--model", "lstm-melody"], "cannot harmonize"),
        (["continue"], "needs an input MIDI file"),
        (["harmonize", str(tmp_path / "none.mid")], "does not exist"),
        (["infill", str(source), "--track", "1"], "select the region"),
    ]
    for args, words in cases:
        assert main(["generate", *args, "-o", str(tmp_path / "x.mid")]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("studio: error:") and words in err and "\n" not in err, err
    assert not (tmp_path / "x.mid").exists()


@pytest.mark.parametrize("text, key", [("D minor", (2, True)), ("Bb major", (10, False)),
                                       ("f#m", (6, True)), ("C", (0, False))])
def test_key_names(text, key):
    assert parse_key(text) == key


def test_ranges():
    assert parse_range("C4-A5") == (60, 81) and parse_range("40 - 52") == (40, 52)
    assert parse_range("Bb3-C#4") == (58, 61)
