"""The `studio` command line: version, info, and clean errors without tracebacks."""

import subprocess
import sys

from studio import __version__
from tests.conftest import MIDI_DIR


def studio(*args, **kw):
    return subprocess.run([sys.executable, "-m", "studio", *map(str, args)], capture_output=True,
                          text=True, timeout=120, **kw)


def test_version():
    out = studio("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"studio {__version__}"


def test_info_describes_a_real_file():
    out = studio("info", MIDI_DIR / "debussy" / "claire_de_lune.mid")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "tracks     2, notes 1491" in text
    assert "9/8" in text and "Db major" in text and "100.0 qpm" in text
    assert "Piano right" in text and "Piano left" in text


def test_info_on_bad_file_is_one_line_error(tmp_path):
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"garbage")
    out = studio("info", bad)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert out.stderr.strip() == f"studio: error: {bad}: not a MIDI file (no MThd header)"


HELP_WITHOUT_TORCH = ("import sys\nfrom studio.cli import main\ntry:\n    main(sys.argv[1:])\n"
                      "except SystemExit:\n    pass\nprint('torch' in sys.modules, file=sys.stderr)")


def _help(*args):
    return subprocess.run([sys.executable, "-c", HELP_WITHOUT_TORCH, *args], capture_output=True,
                          text=True, timeout=120)


def test_help_starts_without_the_engine_except_for_training():
    for args in (["--help"], ["info", "--help"], ["generate", "--help"], ["eval", "--help"]):
        out = _help(*args)
        assert out.stdout.startswith("usage: studio") and out.stderr.strip() == "False", args
    out = _help("train", "--help")  # the model knobs come from the families (torch)
    assert out.stderr.strip() == "True"
    assert "training settings:" in out.stdout and "--lr" in out.stdout
    assert "--cd-steps" in out.stdout and "[rbm]" in out.stdout
    assert "the model to train: " in out.stdout and "lstm" in out.stdout
