"""Sampling values from the command line are checked before any work: `--top-p 2` used to be
accepted, and `--temperature nan` or `--top-p 0` ended in "no allowed note is left"."""

from __future__ import annotations

import pytest

from studio.cli import main


@pytest.mark.parametrize("args, words", [
    (["--top-p", "2"], "top-p must be above 0 and at most 1, not 2.0"),
    (["--top-p", "0"], "top-p must be above 0 and at most 1, not 0.0"),
    (["--top-p", "nan"], "top-p must be above 0 and at most 1, not nan"),
    (["--temperature", "nan"], "the temperature must be a number above 0, not nan"),
    (["--temperature", "inf"], "the temperature must be a number above 0, not inf"),
    (["--temperature", "0"], "the temperature must be a number above 0"),
    (["--top-k", "-1"], "top-k and the iterations cannot be negative"),
])
def test_sampling_values_out_of_range_are_one_clear_line(args, words, tmp_path, capsys):
    out = tmp_path / "m.mid"
    assert main(["generate", "melody", "--bars", "2", "-o", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert err == f"studio: error: {words}\n" or (words in err and err.count("\n") == 1), err
    assert not out.exists()
