"""The editor: the piano roll (canvas, keyboard, ruler, velocity lane, gestures, edits as undo
commands) and the track list."""
