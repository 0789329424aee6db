"""One generation run as the panel keeps it: the request sent to the core (with its own copy of
the song), what the music it was made from looked like, and where auditions start.

The musician may keep editing while the core works and while they audition. `apply` puts a
candidate into the song only if the tracks it was made from are unchanged and its edit still
fits; otherwise it returns, in plain words, why not, and the song stays as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from studio.music.edits import EditError
from studio.music.song import Song, Track

CONTEXT_BARS = {"continue": 2, "infill": 1, "harmonize": 1}  # bars heard before new material


def track_content(track: Track) -> tuple:
    """What the generated music depends on in a track: its notes (ids included)."""
    return tuple(sorted((n.id, n.pitch, n.start, n.duration) for n in track.notes))


def play_start(song: Song, mode: str, fields: dict) -> int | None:
    """Where auditions start for a request that rewrites part of a track: a little before the
    new material. None when that depends on the candidate (see `audition_start`)."""
    span, playhead = fields.get("time_range"), fields.get("playhead")
    if mode == "continue":
        if span:
            tick = span[1]
        elif playhead is not None:
            tick = playhead
        else:   # from the end of the track
            ids = fields.get("track_ids", ())
            tick = next((t.end for t in song.tracks if ids and t.id == ids[0]), 0)
    elif mode in ("infill", "harmonize") and span:
        tick = span[0]
    else:
        return None
    bar = song.time_signature_at(tick).bar_ticks
    return max(0, (tick // bar - CONTEXT_BARS[mode]) * bar)


@dataclass
class GenerationSession:
    request: object  # studio.ml.generation.GenerationRequest
    mode: str
    sources: dict[int, tuple] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)
    play_start: int | None = None

    @classmethod
    def start(cls, window, mode: str, model: str, fields: dict, options) -> GenerationSession:
        """The request for the window's song as it is now (a copy: the core reads it on its
        thread while the musician goes on editing the original)."""
        from studio.ml.generation import GenerationRequest

        song = window.document.song.copy()
        request = GenerationRequest(mode=mode, model=model, song=song, options=options,
                                    **fields)
        tracks = {t.id: t for t in song.tracks}
        ids = [i for i in fields.get("track_ids", ()) if i in tracks]
        return cls(request, mode, {i: track_content(tracks[i]) for i in ids},
                   {i: tracks[i].name or "Untitled track" for i in ids},
                   play_start(song, mode, fields))

    def audition_start(self, candidate) -> int:
        """The tick an audition of `candidate` starts at: before the rewritten part, else the
        bar where its new tracks begin (a morph added after the end of the song), else 0."""
        if self.play_start is not None:
            return self.play_start
        preview: Song = candidate.preview
        new = set(getattr(candidate, "new_track_ids", ()))
        starts = [min(n.start for n in t.notes) for t in preview.tracks
                  if t.id in new and t.notes]
        if not starts:
            return 0
        tick = min(starts)
        bar = preview.time_signature_at(tick).bar_ticks
        return tick // bar * bar

    def stale_reason(self, song: Song) -> str | None:
        """Why the variations no longer fit `song` (None when they still do)."""
        tracks = {t.id: t for t in song.tracks}
        for track_id, content in self.sources.items():
            name = self.names[track_id]
            if track_id not in tracks:
                return (f"The track {name!r} these variations were made from is gone. "
                        "Generate again.")
            if track_content(tracks[track_id]) != content:
                return (f"The track {name!r} changed after these variations were made, so "
                        "they no longer fit it. Generate again (or undo your change).")
        return None

    def apply(self, document, candidate) -> str | None:
        """Apply the candidate's edit as one undo step; the reason when it cannot be."""
        reason = self.stale_reason(document.song)
        if reason:
            return reason
        try:
            document.apply(candidate.edit)
        except (KeyError, EditError) as e:   # nothing changed: edits check before they act
            return (f"This variation no longer fits the song ({str(e).strip(chr(39))}). "
                    "Generate again.")
        return None
