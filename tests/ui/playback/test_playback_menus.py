"""The File menu ends with Quit (Export Audio sits beside Export MIDI), and the Playback menu and
the Preferences tab show "MIDI & Audio" with its ampersand, not as a mnemonic."""

from tests.ui.editor_driver import make_window


def test_file_menu_order_and_the_ampersand(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    texts = [a.text() for a in w.menus["File"].actions() if not a.isSeparator()]
    assert texts[-1] == "&Quit"
    assert texts.index("Export &Audio (WAV)…") == texts.index("&Export MIDI…") + 1
    settings = [a for a in w.menus["Playback"].actions() if a.text().endswith("Settings…")]
    assert [a.text() for a in settings] == ["MIDI && Audio Settings…"]
    dialog = w.show_preferences()
    tabs = [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())]
    assert "MIDI && Audio" in tabs
    dialog.close()
    w.document.undo_stack.setClean()
    w.close()
