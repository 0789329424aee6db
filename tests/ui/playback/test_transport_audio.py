"""The built-in synth heard through Qt Multimedia on a real PulseAudio null sink: the audio sink
starts without error and what reaches the sink is the C major chord that was played; with no
audio device, or one that dies mid-song, the window says so and playback goes on, no crash.

Each case runs the real window in a fresh process: Qt connects to the sound server once per
process, so a test process that already touched Qt Multimedia could not be pointed at a new one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

from tests.realtime_fixtures import pulse_server, require_program  # noqa: F401

REPO = Path(__file__).resolve().parents[3]

SCRIPT = textwrap.dedent('''
    import json, os, subprocess, sys
    from pathlib import Path
    sys.path.insert(0, os.getcwd())
    mode, out_dir = sys.argv[1], Path(sys.argv[2])
    own = None
    if mode == "device-dies":  # a sound server of its own, to kill mid-song
        from tests.realtime_fixtures import start_pulse
        own = start_pulse(out_dir / "pulse")
        os.environ["PULSE_SERVER"] = own.server
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication
    from studio.music import Note, Song, TempoChange, Track
    from studio.ui.main_window import MainWindow

    app = QApplication([])
    w = MainWindow(QSettings(str(out_dir / "s.ini"), QSettings.Format.IniFormat))
    status = []
    w.statusBar().messageChanged.connect(lambda text: text and status.append(text))
    song = Song([Track("Piano", notes=[Note(p, 0, 480 * 14, 100) for p in (60, 64, 67)])],
                tempos=[TempoChange(0, 120.0)])  # a 7-second chord
    w.open_song(song)
    recorder = None
    if mode == "play":
        recorder = subprocess.Popen(
            ["parec", "--device", sys.argv[3], "--format=s16le", "--rate=44100", "--channels=2",
             "--raw", "--latency-msec=20"], stdout=(out_dir / "monitor.raw").open("wb"))
    w.playback.play(0)
    audio = w.playback.audio
    report = {"output": w.playback.player.output.name, "started": audio.running,
              "device": audio.device_name}
    if own is not None:
        QTimer.singleShot(2500, lambda: (own.process.kill(), own.process.wait()))

    def collect():
        report.update(playing=w.playback.is_playing, position=w.playback.position,
                      status=status, running=audio.running,
                      frames=audio.source.frames_rendered if audio.source else 0)
        app.quit()

    QTimer.singleShot(int(sys.argv[4]), collect)
    app.exec()
    w.close()
    if recorder is not None:
        recorder.terminate()
        recorder.wait()
    print("REPORT " + json.dumps(report))
''')


def run_window(mode: str, tmp_path: Path, env: dict, *args: str, ms: int = 4000) -> dict:
    script = tmp_path / "window_audio.py"
    script.write_text(SCRIPT)
    result = subprocess.run([sys.executable, str(script), mode, str(tmp_path), *args, str(ms)],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(x for x in result.stdout.splitlines() if x.startswith("REPORT "))
    return json.loads(line[len("REPORT "):])


def base_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULSE_")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["JACK_DEFAULT_SERVER"] = "no-jack-here"  # the synth, not a port
    return env


def test_synth_plays_a_c_major_chord_into_the_null_sink(pulse_server, tmp_path):  # noqa: F811
    env = dict(base_env(), PULSE_SERVER=pulse_server.server)
    report = run_window("play", tmp_path, env, pulse_server.monitor, ms=4000)
    assert report["output"] == "Built-in synth"
    assert report["started"] and report["device"] == "Studio-null-sink"
    assert report["running"] and report["playing"] and report["frames"] > 44100
    assert not any("audio" in s.lower() for s in report["status"]), report["status"]
    pcm = np.frombuffer((tmp_path / "monitor.raw").read_bytes(), dtype="<i2").reshape(-1, 2)
    loud = np.nonzero(np.abs(pcm).max(axis=1) > 300)[0]
    assert len(loud) > 44100 // 2, "less than half a second of sound reached the sink"
    seg = pcm[loud[0] + 4410:loud[0] + 4410 + 22050].mean(axis=1)
    mag = np.abs(np.fft.rfft(seg * np.hanning(len(seg))))
    freqs = np.fft.rfftfreq(len(seg), 1 / 44100)
    band = np.where((freqs > 200) & (freqs < 450))[0]
    local = [i for i in band if mag[i] >= mag[i - 1] and mag[i] >= mag[i + 1]]
    top = sorted(freqs[i] for i in sorted(local, key=lambda i: -mag[i])[:3])
    for f, expected in zip(top, (261.63, 329.63, 392.0)):
        assert abs(f - expected) < 3, f"peaks at {top}"


def test_no_audio_device_is_told_and_playback_goes_on(tmp_path):
    env = dict(base_env(), PULSE_SERVER="unix:/nonexistent/studio-test-socket")
    report = run_window("no-device", tmp_path, env, "-", ms=1200)
    assert report["started"] is False and report["playing"] and report["position"] > 480
    assert any("No audio output device" in s for s in report["status"]), report["status"]


def test_audio_device_dying_mid_song_is_told(tmp_path):
    require_program("pulseaudio")  # the window starts a sound server of its own to kill
    report = run_window("device-dies", tmp_path, base_env(), "-", ms=5800)
    assert report["started"] is True and report["playing"], report
    assert report["running"] is False
    assert any("stopped responding" in s for s in report["status"]), report["status"]
