"""The window opens with hostile files where it looks at startup: a model card nested 10 000
deep in the user's models (it used to end in RecursionError), an autosave of the same in the
recovery folder beside a real one, and a dataset whose manifest is damaged."""

from __future__ import annotations

from studio import paths
from studio.music.project import Project, save_project
from studio.ui.main_window import MainWindow
from tests.data.folders import generated_song

NESTED = b"[" * 10_000 + b"]" * 10_000


def test_the_window_opens_beside_hostile_files(qtbot):
    (paths.user_models_dir() / "deep.json").write_bytes(NESTED)
    (paths.user_models_dir() / "deep.safetensors").write_bytes(b"\x08" + b"\0" * 7 + b"[[[[")
    dataset = paths.user_datasets_dir() / "broken"
    dataset.mkdir()
    (dataset / "manifest.json").write_bytes(NESTED)
    (dataset / "info.json").write_bytes(b'{"name": ' + NESTED + b"}")
    recovery = paths.recovery_dir()
    (recovery / "session-deep.studio").write_bytes(
        b'{"format":"studio-project","version":1,"song":' + NESTED + b"}")
    save_project(recovery / "session-real.studio", Project(generated_song(3, 1, 9)),
                 keep_backup=False)
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    assert w.isVisible()
