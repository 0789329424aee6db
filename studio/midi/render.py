"""Offline rendering of a song through the built-in synth: to a numpy array or a WAV file.

Events are applied at their exact sample, so a rendered file has no timing jitter. Rendering is a
plain function with a `progress(fraction)` callback and a `cancel()` check between blocks (the UI
runs it on a worker thread; `studio render` runs it in the terminal). WAV files are 16-bit stereo,
written through `studio.storage.atomic_file`, so a cancelled or failed render leaves nothing
behind and the file gets the permissions the umask gives. A render can be normalized: its peak
brought to a level such as -1 dBFS (a full song from the synth peaks near -14 dBFS, a single
piano line near -25).
"""

from __future__ import annotations

import math
import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from studio.midi.sequence import compile_events
from studio.midi.synth import SAMPLE_RATE, SoundFontSynth
from studio.music.song import Song
from studio.storage import FileWriteError, atomic_file

BLOCK_FRAMES = 4096
TAIL_SECONDS = 1.5  # let the last notes ring out


class RenderCancelled(Exception):
    """The render was cancelled; nothing was written."""

    user_facing = True

    def __init__(self) -> None:
        super().__init__("rendering was cancelled")


class RenderError(Exception):
    """Cannot write the audio file."""

    user_facing = True


@dataclass
class RenderResult:
    path: Path | None
    seconds: float
    frames: int
    peak: float


def iter_render(song: Song, synth: SoundFontSynth, audible=None,
                tail_seconds: float = TAIL_SECONDS,
                progress: Callable[[float], None] | None = None,
                cancel: Callable[[], bool] | None = None) -> Iterator[np.ndarray]:
    """Yield float32 stereo blocks of the rendered song, events placed at their exact sample."""
    events = compile_events(song, audible)
    sr = synth.sample_rate
    total = int(math.ceil((events.end_seconds + tail_seconds) * sr))
    synth.send_many(events.setup_messages())
    frame_of = [int(round(s * sr)) for s in events.seconds]
    done, i, n = 0, 0, len(events)
    last_report = -1.0
    while done < total:
        if cancel is not None and cancel():
            raise RenderCancelled()
        while i < n and frame_of[i] <= done:
            synth.send(events.messages[i])
            i += 1
        step = min(BLOCK_FRAMES, total - done)
        if i < n:
            step = min(step, frame_of[i] - done)
        block = synth.render(step)
        done += step
        yield block
        fraction = done / total
        if progress is not None and fraction - last_report >= 0.01:
            progress(fraction)
            last_report = fraction
    if progress is not None:
        progress(1.0)


def render_array(song: Song, soundfont: str | Path | None = None, sample_rate: int = SAMPLE_RATE,
                 tail_seconds: float = TAIL_SECONDS) -> np.ndarray:
    """The whole song as float32 stereo samples, shape (frames, 2)."""
    synth = SoundFontSynth(soundfont, sample_rate)
    blocks = list(iter_render(song, synth, tail_seconds=tail_seconds))
    return np.concatenate(blocks) if blocks else np.zeros((0, 2), np.float32)


def song_peak(song: Song, soundfont: str | Path | None = None, sample_rate: int = SAMPLE_RATE,
              tail_seconds: float = TAIL_SECONDS, audible=None,
              progress: Callable[[float], None] | None = None,
              cancel: Callable[[], bool] | None = None) -> float:
    """The highest sample magnitude of the rendered song (1.0 = full scale), without keeping
    the audio: the first pass of a normalized render (the synth is deterministic)."""
    synth = SoundFontSynth(soundfont, sample_rate)
    peak = 0.0
    for block in iter_render(song, synth, audible, tail_seconds, progress, cancel):
        if len(block):
            peak = max(peak, float(np.abs(block).max()))
    return peak


def render_song(song: Song, path: str | Path, soundfont: str | Path | None = None,
                sample_rate: int = SAMPLE_RATE, tail_seconds: float = TAIL_SECONDS,
                audible=None, progress: Callable[[float], None] | None = None,
                cancel: Callable[[], bool] | None = None,
                normalize_dbfs: float | None = None) -> RenderResult:
    """Render `song` to a 16-bit stereo WAV file at `path` (atomically). With
    `normalize_dbfs` (e.g. -1.0) the audio is scaled so that its peak sits at that level:
    rendered twice, first to measure the peak (each pass half of the progress)."""
    path = Path(path)
    if not path.parent.is_dir():
        raise RenderError(f"cannot write {path}: the folder {path.parent} does not exist")
    gain = 1.0
    if normalize_dbfs is not None:
        if normalize_dbfs > 0:
            raise RenderError(f"normalize to a level at or below 0 dBFS (asked: {normalize_dbfs})")
        half = (lambda f: progress(f / 2)) if progress is not None else None
        peak = song_peak(song, soundfont, sample_rate, tail_seconds, audible, half, cancel)
        gain = 10 ** (normalize_dbfs / 20) / peak if peak > 0 else 1.0
        if progress is not None:
            progress = (lambda p: lambda f: p(0.5 + f / 2))(progress)
    synth = SoundFontSynth(soundfont, sample_rate)
    frames, peak = 0, 0.0
    try:
        with atomic_file(path) as f, wave.open(f, "wb") as w:
            w.setnchannels(2)
            w.setsampwidth(2)
            w.setframerate(sample_rate)
            for block in iter_render(song, synth, audible, tail_seconds, progress, cancel):
                if gain != 1.0:
                    block = block * np.float32(gain)
                if len(block):
                    peak = max(peak, float(np.abs(block).max()))
                w.writeframes((np.clip(block, -1.0, 1.0) * 32767).astype("<i2").tobytes())
                frames += len(block)
    except FileWriteError as e:
        raise RenderError(str(e)) from None
    return RenderResult(path, frames / sample_rate, frames, peak)
