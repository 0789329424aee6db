"""The generation modes, by the names the command line, the panel, the requests and the model
cards use. A module of its own without torch: `studio --help` lists them without loading the
engine."""

GENERATION_MODES = ("melody", "continue", "harmonize", "infill", "interpolate", "accompany",
                    "pop-infill")

# Modes a model can do because of what else it does and what it is, not listed in its card:
# a recurrent melody model that continues melodies also fills in bars of a pop song (its
# likelihood ranks the fills; the piano comes from the shipped accompanist).
DERIVED_MODES = {"pop-infill": ("recurrent", "continue")}


def model_modes(listed, family: str) -> list[str]:
    """The modes a model of `family` whose card lists `listed` can generate."""
    out = [str(m) for m in listed]
    for mode, (needs_family, needs_mode) in DERIVED_MODES.items():
        if family == needs_family and needs_mode in out and mode not in out:
            out.append(mode)
    return out
