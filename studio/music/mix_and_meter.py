"""A track's mix (volume and pan) and the song's meter and key changes, as invertible edits.

Volume and pan are the MIDI controllers a musician's file carries (CC 7 and CC 10) at the start of
a track: playback and the audio render send them like any controller, MIDI export writes them.
`mix_edit` replaces only the values at tick 0 and keeps later automation. `time_signature_edit`
and `key_signature_edit` put a change at a bar (replacing one already there); a change that says
what is already in force there is dropped, so setting a bar back to the meter before it removes
its change. Each is one `ChangeTrack` / `ChangeSong`: one undo step.
"""

from __future__ import annotations

from studio.music.edits import ChangeSong, ChangeTrack, EditError
from studio.music.song import ControlChange, KeySignature, Song, TimeSignature, Track

VOLUME, PAN = 7, 10              # MIDI controller numbers
DEFAULT_VOLUME, CENTRE = 100, 64  # what General MIDI synths assume without them
DENOMINATORS = (1, 2, 4, 8, 16, 32)


def _at_start(track: Track, number: int, default: int) -> int:
    values = [c.value for c in sorted(track.controls) if c.number == number and c.tick <= 0]
    return int(values[-1]) if values else default


def track_volume(track: Track) -> int:
    """The track's volume (CC 7) at its start, 0-127."""
    return _at_start(track, VOLUME, DEFAULT_VOLUME)


def track_pan(track: Track) -> int:
    """The track's pan (CC 10) at its start: 0 left, 64 centre, 127 right."""
    return _at_start(track, PAN, CENTRE)


def mix_edit(track: Track, volume: int | None = None, pan: int | None = None) -> ChangeTrack:
    """Set the track's volume and/or pan at tick 0 (one undo step)."""
    controls = list(track.controls)
    for number, value in ((VOLUME, volume), (PAN, pan)):
        if value is None:
            continue
        if not 0 <= int(value) <= 127:
            raise EditError(f"a controller value must be 0-127 (got {value})")
        controls = [c for c in controls if not (c.number == number and c.tick <= 0)]
        controls.append(ControlChange(0, number, int(value)))
    controls.sort()
    words = "Volume" if pan is None else "Pan" if volume is None else "Mix"
    return ChangeTrack(track.id, (("controls", controls),), f"{words} of {track.name or 'track'}")


def time_signature_edit(song: Song, tick: int, numerator: int, denominator: int) -> ChangeSong:
    """The meter from `tick` (a bar line) on: numerator/denominator."""
    if not 1 <= numerator <= 32 or denominator not in DENOMINATORS:
        raise EditError(f"{numerator}/{denominator} is not a meter Studio can write "
                        f"(1-32 beats of {', '.join(map(str, DENOMINATORS))})")
    others = [s for s in song.time_signatures if s.tick != tick]
    before = [s for s in others if s.tick < tick]
    in_force = max(before, key=lambda s: s.tick) if before else TimeSignature(0)
    if tick > 0 and (in_force.numerator, in_force.denominator) == (numerator, denominator):
        sigs = others
    else:
        sigs = [*others, TimeSignature(int(tick), int(numerator), int(denominator))]
    return ChangeSong((("time_signatures", sorted(sigs)),), "Time signature")


def key_signature_edit(song: Song, tick: int, sharps: int, minor: bool) -> ChangeSong:
    """The key signature from `tick` on: `sharps` (-7..7, flats negative), major or minor."""
    if not -7 <= sharps <= 7:
        raise EditError(f"a key signature has at most 7 sharps or flats (got {sharps})")
    others = [k for k in song.key_signatures if k.tick != tick]
    before = [k for k in others if k.tick < tick]
    in_force = max(before, key=lambda k: k.tick) if before else None
    if in_force is not None and (in_force.sharps, in_force.minor) == (sharps, minor):
        keys = others
    else:
        keys = [*others, KeySignature(int(tick), int(sharps), bool(minor))]
    return ChangeSong((("key_signatures", sorted(keys)),), "Key signature")
