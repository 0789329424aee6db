"""`studio import` and `studio datasets` from the command line."""

from studio.cli import main
from tests.data.folders import copy_shared


def test_import_then_list_and_show(tmp_path, capsys):
    copy_shared(tmp_path / "m")
    (tmp_path / "m" / "broken.mid").write_bytes(b"MThd\x00\x00")
    assert main(["import", str(tmp_path / "m"), "--name", "cli set", "--tracks", "melody"]) == 0
    out = capsys.readouterr().out
    assert "20 pieces from 22 files" in out
    assert "broken.mid: truncated" in out and "beat.mid: no notes" in out
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[1].startswith("jsb ") and "382" in lines[1]
    assert any(line.startswith("cli set") and " 20 " in line for line in lines)
    assert main(["datasets", "show", "cli set"]) == 0
    out = capsys.readouterr().out
    assert "pieces   20" in out and "broken.mid" in out and "keys" in out
    assert main(["datasets", "show", "nothing"]) == 2
    assert "no dataset named 'nothing'" in capsys.readouterr().err
    assert main(["datasets", "delete", "cli set"]) == 0
    assert (tmp_path / "m" / "broken.mid").exists()
    assert main(["import", str(tmp_path / "nope"), "--name", "x"]) == 2
    assert "does not exist" in capsys.readouterr().err
