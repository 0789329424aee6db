"""MusicXML import through music21 (the optional `musicxml` extra), run inside import workers.

music21 turns the score into a MIDI file in memory, which then goes through the same parser and
checks as any MIDI file. Without music21 the file is reported with the way to get it.
"""

from __future__ import annotations

from studio.midi.parse import ParsedMidi, ParseError, parse_midi_bytes

INSTALL_HINT = "MusicXML needs the optional music21 package (pip install 'studio[musicxml]')"


def music21_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("music21") is not None


def musicxml_to_parsed(data: bytes, suffix: str = ".musicxml") -> ParsedMidi:
    """Raises ParseError with a reason when music21 is missing or cannot read the score."""
    if not music21_available():
        raise ParseError(INSTALL_HINT)
    import music21

    try:
        if suffix == ".mxl":
            import io
            import zipfile

            with zipfile.ZipFile(io.BytesIO(data)) as z:
                names = [n for n in z.namelist()
                         if n.endswith((".xml", ".musicxml")) and not n.startswith("META-INF")]
                if not names:
                    raise ParseError("the .mxl archive holds no MusicXML score")
                data = z.read(names[0])
        score = music21.converter.parseData(data.decode("utf-8", "replace"), format="musicxml")
        midi_file = music21.midi.translate.streamToMidiFile(score)
        midi_bytes = midi_file.writestr()
    except ParseError:
        raise
    except Exception as e:  # music21 raises many kinds of errors on bad scores
        raise ParseError(f"not a readable MusicXML score ({type(e).__name__}: {e})") from None
    return parse_midi_bytes(midi_bytes)
