"""Projects: the File menu (open, save, import, export), autosave and crash recovery, and the
Preferences dialog. Used by the main window directly."""
