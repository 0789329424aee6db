"""The Qt layer: the only package that imports PySide6 or pyqtgraph.

One subpackage per feature (editor, playback, datasets, training, generation, style_map,
project), independent of each other; the common part at this level: `app` (start-up),
`main_window` (the window the features plug into), `document` (the open song and its undo
stack), `jobs` (background jobs) on `worker_thread`, `palette`, `main_thread_gc`,
`help_dialogs`, `stall_probe`.
"""
