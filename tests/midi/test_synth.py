"""The built-in synth (TinySoundFont on pretty_midi's TimGM6mb.sf2): a C major chord has its
spectral peaks at C, E and G; programs, drums, pitch bend and panic work; songs render to WAV
files (`studio render` included) atomically; bad SoundFonts and bad paths give clear errors."""

from __future__ import annotations

import subprocess
import sys
import wave

import numpy as np
import pytest

from studio.midi import read_song
from studio.midi.render import RenderCancelled, RenderError, render_array, render_song
from studio.midi.synth import SoundFontSynth, SynthError, default_soundfont
from studio.music import Note, Song, TempoChange, Track
from studio.music.timing import duration_seconds
from tests.conftest import MIDI_DIR

SR = 44100


def hz(pitch: int) -> float:
    return 440.0 * 2 ** ((pitch - 69) / 12)


def spectrum(audio: np.ndarray, sr: int = SR) -> tuple[np.ndarray, np.ndarray]:
    mono = audio.mean(axis=1)
    mag = np.abs(np.fft.rfft(mono * np.hanning(len(mono))))
    return np.fft.rfftfreq(len(mono), 1 / sr), mag


def peaks(freqs, mag, lo: float, hi: float, count: int) -> list[float]:
    """The `count` strongest local maxima between lo and hi Hz."""
    band = np.where((freqs > lo) & (freqs < hi))[0]
    local = [i for i in band if mag[i] >= mag[i - 1] and mag[i] >= mag[i + 1]]
    local.sort(key=lambda i: -mag[i])
    return sorted(float(freqs[i]) for i in local[:count])


def test_c_major_chord_has_peaks_at_c_e_g():
    song = Song([Track("Piano", program=0, notes=[Note(p, 0, 1920, 100) for p in (60, 64, 67)])],
                tempos=[TempoChange(0, 120.0)])  # 1920 ticks = 2 s
    audio = render_array(song, tail_seconds=0)
    assert audio.shape == (2 * SR, 2) and audio.dtype == np.float32
    assert 0.02 < np.abs(audio).max() <= 1.0
    freqs, mag = spectrum(audio)
    found = peaks(freqs, mag, 200, 450, 3)
    for f, pitch in zip(found, (60, 64, 67)):
        assert abs(f - hz(pitch)) < 2.0, f"peaks at {found}, expected C4 E4 G4"
    noise = np.median(mag[(freqs > 200) & (freqs < 450)])
    assert all(mag[np.argmin(abs(freqs - hz(p)))] > 50 * noise for p in (60, 64, 67))


def test_programs_drums_pitch_bend_and_panic():
    synth = SoundFontSynth()
    synth.send((0x90, 69, 100))
    a4 = synth.render(SR)
    synth.send((0x80, 69, 0))
    synth.send((0xE0, 0x7F, 0x7F))  # bend fully up: +2 semitones
    synth.send((0x90, 69, 100))
    bent = synth.render(SR)
    synth.panic()
    synth.render(2205)
    assert np.abs(synth.render(4410)).max() < 1e-4, "the panic left a note sounding"
    f_a4 = peaks(*spectrum(a4), 300, 600, 1)[0]
    f_bent = peaks(*spectrum(bent), 300, 600, 1)[0]
    assert abs(f_a4 - 440) < 2 and abs(f_bent - hz(71)) < 4
    synth.send((0xE0, 0, 0x40))  # centre the bend again
    # A different program (a flute, 73) sounds different from the piano at the same pitch.
    synth.send((0xC0, 73, 0))
    synth.send((0x90, 69, 100))
    flute = synth.render(SR)
    synth.panic()
    _, piano_mag = spectrum(a4)
    _, flute_mag = spectrum(flute)
    assert np.corrcoef(piano_mag[:8000], flute_mag[:8000])[0, 1] < 0.9
    # Drums on channel 10: a snare (38) makes noise, not a pitch.
    synth.send((0x99, 38, 110))
    snare = synth.render(SR // 4)
    assert np.abs(snare).max() > 0.01


def test_render_real_song_to_wav(tmp_path):
    song = read_song(MIDI_DIR / "bach" / "bach_846.mid")
    out = tmp_path / "prelude.wav"
    fractions = []
    result = render_song(song, out, progress=fractions.append, tail_seconds=1.0)
    with wave.open(str(out)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (2, 2, SR)
        frames = w.getnframes()
        pcm = np.frombuffer(w.readframes(frames), dtype="<i2")
    assert abs(frames / SR - (duration_seconds(song) + 1.0)) < 0.01
    assert result.frames == frames and 0.02 < result.peak
    assert np.abs(pcm).max() > 1000
    assert fractions[-1] == 1.0 and fractions == sorted(fractions)
    assert [p.name for p in tmp_path.iterdir()] == ["prelude.wav"]


def test_cancelled_or_failed_render_leaves_nothing(tmp_path):
    song = read_song(MIDI_DIR / "bach" / "bach_846.mid")
    out = tmp_path / "x.wav"
    calls = []
    with pytest.raises(RenderCancelled):
        render_song(song, out, progress=calls.append, cancel=lambda: len(calls) >= 3)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(RenderError, match="does not exist"):
        render_song(song, tmp_path / "missing" / "x.wav")


def test_bad_soundfonts_give_clear_errors(tmp_path):
    assert default_soundfont().name == "TimGM6mb.sf2"
    with pytest.raises(SynthError, match="not found"):
        SoundFontSynth(tmp_path / "nope.sf2")
    bad = tmp_path / "bad.sf2"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00not a soundfont at all")
    with pytest.raises(SynthError, match="bad.sf2"):
        SoundFontSynth(bad)


def studio(*args):
    return subprocess.run([sys.executable, "-m", "studio", *map(str, args)], capture_output=True,
                          text=True, timeout=120)


def test_cli_render(tmp_path):
    out = tmp_path / "beat.wav"
    r = studio("render", MIDI_DIR / "beat.mid", "-o", out)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"{out}: 0:40.1 of audio, 390 notes") and "real time" in r.stdout
    with wave.open(str(out)) as w:
        assert w.getnframes() == round(SR * 40.1)
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"garbage")
    r = studio("render", bad, "-o", tmp_path / "bad.wav")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip() == f"studio: error: {bad}: not a MIDI file (no MThd header)"
    r = studio("render", MIDI_DIR / "beat.mid", "-o", tmp_path / "no" / "dir.wav")
    assert r.returncode == 2 and "does not exist" in r.stderr and "Traceback" not in r.stderr
