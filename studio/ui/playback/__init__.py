"""Playback: the Qt player over the plain scheduler, audio and MIDI outputs, recording, audio
export, the transport bar and the MIDI & Audio preferences. Installed by `playback_feature`."""
