"""The generation modes, by the names the command line, the panel, the requests and the model
cards use. A module of its own without torch: `studio --help` lists them without loading the
engine."""

GENERATION_MODES = ("melody", "continue", "harmonize", "infill", "interpolate", "accompany")
