"""Limits that keep reading any file bounded in memory and time.

A file past a limit raises `MidiReadError` naming the limit. They are generous for real music:
the largest piano-roll-worthy files (full orchestral scores) have a few hundred thousand notes.
The size, note, controller and pitch-bend limits can be lowered (or raised) with the
environment variables STUDIO_MIDI_MAX_BYTES, STUDIO_MIDI_MAX_NOTES, STUDIO_MIDI_MAX_CONTROLS and
STUDIO_MIDI_MAX_PITCH_BENDS.
"""

import os

from studio.music.song import MAX_TICK

MAX_FILE_BYTES = int(os.environ.get("STUDIO_MIDI_MAX_BYTES", 64 * 1024 * 1024))  # 64 MiB
MAX_TRACK_CHUNKS = 4096
MAX_NOTES = int(os.environ.get("STUDIO_MIDI_MAX_NOTES", 4_000_000))
# Every other event kind has its own limit: 15 million controller events (a 43 MB file) used to
# read "OK" with 3.6 GB in the app. A dense controller part (a breath controller, 100 events a
# second) makes about 360 000 events an hour; tempo maps of real performances have one event a
# beat at most.
MAX_CONTROLS = int(os.environ.get("STUDIO_MIDI_MAX_CONTROLS", 1_000_000))
MAX_PITCH_BENDS = int(os.environ.get("STUDIO_MIDI_MAX_PITCH_BENDS", 1_000_000))
MAX_TEMPOS = 100_000
MAX_SIGNATURES = 10_000  # time signatures, and key signatures, each
# Events symusic keeps but Studio does not use (lyrics, markers, text), bounded in the parser.
MAX_OTHER_EVENTS = 1_000_000
# Marker events kept as possible chord symbols (short texts only; the rest are dropped).
MAX_CHORD_MARKERS = 100_000
MAX_MARKER_CHARS = 32
# At 480 PPQ this is over 24 hours at 120 qpm; larger end times come from corrupt delta times.
MAX_TICKS = MAX_TICK
MAX_PPQ = 32767
# Memory the isolated parser process may use (address space), and its time per file.
PARSER_MEMORY_BYTES = 4 * 1024 * 1024 * 1024
PARSER_TIMEOUT_S = 1.5
PARSER_TIMEOUT_PER_MB_S = 0.15
