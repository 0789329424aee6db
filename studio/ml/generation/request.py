"""What a generation asks for (`GenerationRequest`) and what it gives back (`Candidate`, with its
`Originality`).

A request names the mode, the model and the user's song (never modified); each candidate carries
one invertible edit (`studio.music.edits`) that turns the user's song into the result, so the
editor applies it as one undo step, plus a preview copy of the song for audition.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from studio.ml.errors import GenerationError
from studio.ml.family import SamplingOptions
from studio.ml.modes import GENERATION_MODES
from studio.music.song import Song

if TYPE_CHECKING:
    from studio.ml.analysis import CandidateScore
    from studio.music.edits import Edit

MODE_TITLES = {"melody": "New melody", "continue": "Continue", "harmonize": "Harmonize",
               "infill": "Infill", "interpolate": "Interpolate", "accompany": "Accompany",
               "pop-infill": "Pop infill"}
MODE_VERBS = {"melody": "write a new melody", "continue": "continue a melody",
              "harmonize": "harmonize a melody", "infill": "fill in a region",
              "interpolate": "interpolate between melodies", "accompany": "accompany a melody",
              "pop-infill": "fill in bars of a pop song"}
CHORD_MODES = ("melody", "continue", "accompany", "pop-infill")
MAX_BARS = 64  # the longest stretch any mode writes or reads in one go (about 2-4 minutes)


TEXTURES = ("songs", "model")  # accompany: bars of the training songs, or the network's own


@dataclass
class GenerationRequest:
    """One generation job.

    mode: "melody" | "continue" | "harmonize" | "infill" | "interpolate" | "accompany" |
      "pop-infill".
    model: a library name or a checkpoint path (as `studio.ml.library.open_model` takes).
    song: the user's song; read, never changed.
    track_ids: continue: the track to continue; harmonize: the melody track; infill: the tracks
      whose notes in the region are regenerated; interpolate: the two melody tracks; melody: none;
      accompany: the melody track; pop-infill: the tracks (melody, bridge, piano) to regenerate.
    time_range: (start, end) ticks. continue: continue from its end; harmonize: (re)harmonize
      only this stretch; infill, pop-infill: the region; interpolate: the stretch of both melodies to use.
    bars: how many bars melody / continue write.
    options: temperature, top-k, top-p, seed, count (number of variations), iterations.
    key: (tonic pitch class, minor) to keep new notes in that scale; None = free (harmonize
      then prefers the key estimated from the melody).
    chromatic: harmonize/infill with a key: also allow new notes outside its scale (secondary
      dominants, chromatic passing notes); without it every new note is in the key (a minor key
      includes its raised sixth and seventh).
    pitch_range: (lowest, highest) MIDI pitch of new melody notes (melody, continue), or of the
      voices a harmonizer writes.
    interpolation_steps: melodies between the two ends (interpolate).
    playhead: tick where a new melody starts, or where continue starts without a time range.
    device: where the model runs (`auto`, `cpu`, `cuda`, `cuda:N`, `mps`; see
      `studio.ml.device`); the CPU by default, where the shipped models answer fastest.
    chords: accompany, pop-infill: chord text to follow (`C G Am F`, `| C G | Am F |`); None =
      the song's or the model's chords; melody, continue: chords the new melody follows (a
      recurrent melody model); None = free.
    texture: accompany: "songs" (the piano plays bars of the model's training songs re-voiced
      to the chords, `studio.ml.bar_bank`), "model" (the texture network's own voicings), or
      None: what the model's card says (the shipped pop-accompanist: songs). pop-infill:
      "songs" (bars of the song's own piano part outside the range, else of the training
      songs), "model", or None (songs when the accompanist's card says so).
    """

    mode: str
    model: str
    song: Song = field(default_factory=Song)
    track_ids: tuple[int, ...] = ()
    time_range: tuple[int, int] | None = None
    bars: int = 8
    options: SamplingOptions = field(default_factory=SamplingOptions)
    key: tuple[int, bool] | None = None
    pitch_range: tuple[int, int] | None = None
    interpolation_steps: int = 5
    playhead: int | None = None
    device: str = "cpu"
    chords: str | None = None
    chromatic: bool = False
    texture: str | None = None

    def check(self) -> None:
        """Raise GenerationError for a request no model could serve (before any work)."""
        if self.mode not in GENERATION_MODES:
            raise GenerationError(f"unknown generation mode {self.mode!r}; use one of "
                                  f"{', '.join(GENERATION_MODES)}")
        if not str(self.model).strip():
            raise GenerationError("choose a model to generate with")
        if self.mode in ("melody", "continue") and not 1 <= self.bars <= MAX_BARS:
            raise GenerationError(f"the length must be 1 to {MAX_BARS} bars (asked: {self.bars})")
        if self.time_range is not None:
            a, b = self.time_range
            if a < 0 or b <= a:
                raise GenerationError("the selected time range is empty")
        if self.pitch_range is not None:
            lo, hi = self.pitch_range
            if not 0 <= lo <= hi <= 127:
                raise GenerationError(f"the pitch range {lo}-{hi} is not within MIDI notes "
                                      "0-127 (lowest first)")
        if self.key is not None and not 0 <= int(self.key[0]) <= 11:
            raise GenerationError("the key's tonic must be a pitch class 0-11")
        if self.mode == "interpolate" and not 1 <= self.interpolation_steps <= 32:
            raise GenerationError("interpolation takes 1 to 32 steps between the two melodies")
        o = self.options
        if not (math.isfinite(o.temperature) and o.temperature > 0):  # NaN is not above 0
            raise GenerationError(f"the temperature must be a number above 0, not "
                                  f"{o.temperature}")
        if not (math.isfinite(o.top_p) and 0 < o.top_p <= 1):
            raise GenerationError(f"top-p must be above 0 and at most 1, not {o.top_p}")
        if o.top_k < 0 or o.iterations < 0:
            raise GenerationError("top-k and the iterations cannot be negative")
        if not 1 <= self.options.count <= 32:
            raise GenerationError("generate 1 to 32 variations at a time")
        if self.chords is not None and self.mode not in CHORD_MODES:
            raise GenerationError("chords are followed only when accompanying a melody, "
                                  "writing or continuing one, or filling in a pop song")
        if self.texture is not None and self.texture not in TEXTURES:
            raise GenerationError(f"the piano texture is one of {', '.join(TEXTURES)}, not "
                                  f"{self.texture!r}")
        if self.texture is not None and self.mode not in ("accompany", "pop-infill"):
            raise GenerationError("a piano texture is chosen only when accompanying a melody "
                                  "or filling in bars of a pop song")
        if self.playhead is not None and self.playhead < 0:
            raise GenerationError("the playhead is before the start of the song")


@dataclass
class Originality:
    """How much of a candidate's new music the model's training set already contains.

    longest_run: the longest run of consecutive notes (pitch intervals and rhythm, so a
      transposed copy counts) that also occurs in one training piece; 0 when nothing was
      compared. notes: how many new notes were compared. piece: the training piece holding the
      run. span: (start, end) ticks of that run in the candidate. verdict: plain words.
    """

    longest_run: int
    notes: int
    piece: str
    span: tuple[int, int] | None
    verdict: str

    @property
    def copied(self) -> bool:
        return self.verdict.startswith("copies")


@dataclass
class Candidate:
    """One result: `edit` applied to the user's song gives `preview` (one undo step)."""

    index: int
    edit: Edit
    preview: Song
    description: str
    new_track_ids: tuple[int, ...] = ()
    originality: Originality | None = None
    style: CandidateScore | None = None
    seconds: float = 0.0
    notes: dict[str, int] = field(default_factory=dict)  # new / removed note counts
