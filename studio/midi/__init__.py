"""Qt-free MIDI: reading and writing files (safe, bounded), and (later) playback and ports."""

from studio.midi.errors import MidiReadError, MidiWriteError
from studio.midi.files import read_song, read_song_bytes, song_to_midi_bytes, write_song

__all__ = ["read_song", "read_song_bytes", "write_song", "song_to_midi_bytes", "MidiReadError",
           "MidiWriteError"]
