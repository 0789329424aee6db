"""Shared test set-up: Qt runs offscreen; the real-world MIDI test files live in tests/fixtures/midi
(copied with their licences, see the README there), so a plain clone runs every test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
MIDI_DIR = REPO / "tests" / "fixtures" / "midi"
JSB_NPZ = REPO / "resources" / "data" / "jsb" / "jsb_chorales_16th.npz"


def shared_midi_files() -> list[Path]:
    files = sorted(p for p in MIDI_DIR.rglob("*") if p.suffix.lower() in (".mid", ".midi"))
    if not files:
        raise RuntimeError(f"the MIDI test files are missing from {MIDI_DIR}")
    return files


@pytest.fixture(scope="session")
def midi_files() -> list[Path]:
    return shared_midi_files()


@pytest.fixture(scope="session")
def jsb():
    import numpy as np

    return dict(np.load(JSB_NPZ))


@pytest.fixture(autouse=True)
def _isolate_user_dirs(tmp_path_factory, monkeypatch):
    """Each test gets its own user data/config folders, so nothing touches the real home."""
    base = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("STUDIO_HOME", str(base))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(base / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(base / "data"))


# -- skipped tests ------------------------------------------------------------------------------
# A plain `make test` skips what this machine cannot run (real JACK ports and PulseAudio when
# they are not installed) and says so in one line. CI sets STUDIO_REQUIRE_ALL_TESTS=1: there a
# skipped test fails the run, except those that need hardware CI never has (a GPU).
ALLOWED_IN_CI = ("needs a GPU",)
_skipped: list[str] = []


def pytest_runtest_logreport(report):
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        _skipped.append(reason.removeprefix("Skipped: "))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _skipped:
        return
    reasons: dict[str, int] = {}
    for reason in _skipped:
        reasons[reason] = reasons.get(reason, 0) + 1
    for reason, n in reasons.items():
        terminalreporter.write_line(f"{n} test{'s' if n > 1 else ''} skipped: {reason}")


def pytest_sessionfinish(session, exitstatus):
    if os.environ.get("STUDIO_REQUIRE_ALL_TESTS"):
        unexpected = [r for r in _skipped if not r.startswith(ALLOWED_IN_CI)]
        if unexpected:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
            print(f"\nSTUDIO_REQUIRE_ALL_TESTS: {len(unexpected)} tests were skipped, and CI "
                  f"expects every one to run (first reason: {unexpected[0]})")
