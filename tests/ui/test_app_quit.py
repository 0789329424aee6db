"""Closing the studio a moment after it opened (while its background warm-up is still importing
torch) ends quietly: exit status 0 and no traceback on stderr."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent("""
    import sys
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow
    from studio.ui.app import application, run_app

    def close_window():
        for w in QApplication.topLevelWidgets():
            if isinstance(w, QMainWindow):
                w.close()

    app = application()
    QTimer.singleShot(int(sys.argv[1]), close_window)  # the musician closes the window early
    sys.exit(run_app())
""")


@pytest.mark.parametrize("ms", [2000, 2300])
def test_closing_the_window_two_seconds_after_launch_prints_no_traceback(tmp_path, ms):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", STUDIO_HOME=str(tmp_path),
               XDG_CONFIG_HOME=str(tmp_path / "config"), PYTHONPATH=str(REPO))
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(ms)], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
