"""The first-launch demo: a Bach chorale melody alone in the piano roll, with the harmonizer
chosen in the Generation panel, so that a musician hears the studio harmonize within a minute of
installing it.

It opens once, on the very first launch with nothing else to show (a song given on the command
line, or work to recover, comes first); `window.settings` remembers that the first launch is
over. Help > Open Demo brings it back at any time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from studio.music.keys import estimate_key, pitch_class_histogram, sharps_for
from studio.music.song import KeySignature, Song

if TYPE_CHECKING:
    from studio.ui.main_window import MainWindow

SHOWN_KEY = "generation/first_launch_done"
DEMO_SPLIT, DEMO_INDEX = "test", 13   # a 12-bar chorale in D minor the models never trained on
TITLE = "Demo: a Bach chorale melody"
TRACK_NAME = "Chorale melody (soprano)"
HINT = ("This is the melody (soprano) of a Bach chorale. Press Harmonize: the model writes "
        "alto, tenor and bass under it. Play the variations and accept the one you like.")


def demo_song() -> Song:
    """The soprano of a JSB test chorale as the only track, titled so the musician knows what
    it is."""
    import numpy as np

    from studio.data.builtin import jsb_chorales
    from studio.music.grids import satb_to_song

    piece = jsb_chorales().split(DEMO_SPLIT)[DEMO_INDEX]
    song = satb_to_song(piece.satb[:, :1], names=(TRACK_NAME,), qpm=80.0)
    song.title = TITLE
    track = song.tracks[0]
    for note in track.notes:
        note.velocity = 90
    pitches = np.array([n.pitch for n in track.notes])
    durations = np.array([n.duration for n in track.notes], dtype=np.float64)
    tonic, minor, _ = estimate_key(pitch_class_histogram(pitches, durations))
    song.key_signatures = [KeySignature(0, sharps_for(tonic, minor), minor)]
    return song


def open_demo(window: MainWindow) -> bool:
    """Open the demo song (asking to save unsaved work first) and get the harmonizer ready.
    Returns False when the musician cancels."""
    if not window.open_song(demo_song()):
        return False
    song = window.document.song
    window.document.set_current_track(song.tracks[0].id)
    roll = window.piano_roll
    if roll is not None:
        roll.geom.show_ticks(0, song.end)
        pitches = [n.pitch for n in song.tracks[0].notes]
        roll.geom.centre_on_pitch((min(pitches) + max(pitches)) / 2 - 12)
    panel = window.generation_panel
    if panel is not None:
        panel.set_mode("harmonize")
        panel.prepare()   # load the harmonizer while the musician reads the hint
        panel.show_message(HINT)
        dock = window.docks.get("Generation")
        if dock is not None:
            dock.show()
            dock.raise_()
    window.show_status("Demo: press Harmonize in the Generation panel to hear it harmonized",
                       15_000)
    return True


def is_blank(window: MainWindow) -> bool:
    """Nothing open yet: an untitled, empty, unchanged song."""
    doc = window.document
    return (doc.path is None and not doc.song.tracks and not doc.is_modified
            and doc.undo_stack.count() == 0)


def open_demo_on_first_launch(window: MainWindow, song_opened: bool = False) -> bool:
    """On the very first launch, open the demo unless a song was opened already (from the
    command line) or there is work to recover. Returns whether it opened."""
    settings = window.settings
    if settings.value(SHOWN_KEY, False, type=bool):
        return False
    settings.setValue(SHOWN_KEY, True)
    settings.sync()
    if song_opened or not is_blank(window) or window.recovery_dialog is not None:
        return False
    if window.has_recoverable_work():
        return False
    return open_demo(window)
