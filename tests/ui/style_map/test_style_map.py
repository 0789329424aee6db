"""The style map panel in the real main window (offscreen): draw a map of real data on the
worker thread, hover, click to play, double-click to open, add the open song and generated
songs, run the critic, cancel, and bad input shown as a message."""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QTabWidget

from studio.data import load_dataset
from studio.ui.main_window import MainWindow
from tests.conftest import MIDI_DIR

PIANO = [*sorted((MIDI_DIR / "debussy").glob("*.mid"))[:6], MIDI_DIR / "joplin" / "TheEntertainer.mid"]


class PlaybackRecorder:
    """Stands in for the playback feature, which is not part of this branch: records requests."""

    def __init__(self) -> None:
        self.played = []

    def play_song(self, song) -> None:
        self.played.append(song)


def show_style_map(window):
    """Bring the style map tab to the front, in a dock wide enough to click its points."""
    tabs = window.dataset_panel.tabs
    tabs.setCurrentIndex(next(k for k in range(tabs.count()) if tabs.tabText(k) == "Style map"))
    dock = window.docks["Dataset"]
    dock.show()
    dock.raise_()
    window.docks["Tracks"].hide()  # the whole left column for the map
    window.resizeDocks([dock], [700], Qt.Orientation.Horizontal)


@pytest.fixture
def window(qtbot, tmp_path):
    folder = tmp_path / "piano"
    folder.mkdir()
    for p in PIANO:
        shutil.copy(p, folder / p.name)
    w = MainWindow()
    qtbot.addWidget(w)
    w.resize(1300, 850)
    w.show()
    panel = w.style_map
    panel.add_source(str(folder), True, "piano")
    panel.limit.setValue(24)
    yield w
    panel.shutdown()


def _double_click(widget, pos):
    """What Qt delivers for a real double-click: press, release, double-click, release
    (QTest.mouseDClick alone sends only the double-click event)."""
    left = Qt.MouseButton.LeftButton
    QTest.mousePress(widget, left, pos=pos)
    QTest.mouseRelease(widget, left, pos=pos)
    QTest.mouseDClick(widget, left, pos=pos)
    QTest.mouseRelease(widget, left, pos=pos)


def _run(qtbot, panel, button):
    with qtbot.waitSignal(panel.runner.finished, timeout=60000):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_map_draws_and_points_play_open_and_describe_themselves(qtbot, window):
    panel = window.style_map
    tabs = window.dataset_panel.tabs  # the style map is a tab of the dataset panel
    assert any(tabs.tabText(k) == "Style map" and tabs.widget(k).widget() is panel
               for k in range(tabs.count()))
    _run(qtbot, panel, panel.draw_button)
    m = panel.style_map
    assert set(m.labels) == {"jsb", "piano"} and len(m.items) > 60
    assert len(panel.plot.dots.data) == len(m.items)
    assert panel.status.text().startswith("Map drawn")
    show_style_map(window)
    qtbot.wait(200)  # let the dock settle at its new width before reading point positions
    # A piano point far from every other point, so the click cannot land on a neighbour.
    positions = [panel.plot.point_position(k) for k in range(len(m.items))]

    def room(k):
        p = positions[k]
        return min((p - q).manhattanLength() for j, q in enumerate(positions) if j != k)

    holder = panel.parentWidget().parentWidget()  # the scroll area around the panel
    seen = holder.viewport().rect()
    visible = [k for k, p in enumerate(positions)
               if seen.contains(panel.plot.plot.viewport().mapTo(holder.viewport(), p))]
    i = max((k for k in visible if m.items[k].label == "piano"), key=room)
    pos = positions[i]
    viewport = panel.plot.plot.viewport()
    QTest.mouseMove(viewport, pos)
    qtbot.waitUntil(lambda: m.items[i].piece in panel.status.text(), timeout=3000)

    window.playback = PlaybackRecorder()
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=pos)
    qtbot.waitUntil(lambda: len(window.playback.played) >= 1, timeout=3000)
    assert window.playback.played[-1] is m.items[i].song
    assert "Playing" in panel.status.text()

    _double_click(viewport, pos)
    qtbot.waitUntil(lambda: window.document.song.same_content(m.items[i].song), timeout=3000)
    assert window.document.song is not m.items[i].song  # a copy: editing leaves the map alone
    window.grab().save(str(_shot_dir() / "style_map_hover.png"))


def test_open_and_generated_songs_join_the_map_and_stay_after_redraw(qtbot, window):
    panel = window.style_map
    chorale = load_dataset("jsb").split("test")[2].song()
    chorale.title = "My chorale"
    window.open_song(chorale)
    panel.add_open_song()
    assert "once the map is drawn" in panel.status.text()
    _run(qtbot, panel, panel.draw_button)
    m = panel.style_map
    assert [m.items[k].name for k in m.added] == ["My chorale"]
    panel.add_songs([("variation 1", load_dataset("jsb").split("test")[4].song())])
    assert [m.items[k].label for k in m.added] == ["open song", "generated"]
    assert len(panel.plot.diamonds.data) == 2 and len(panel.plot._names) == 2
    qtbot.mouseClick(panel.add_song_button, Qt.MouseButton.LeftButton)  # again: moved, not doubled
    assert sum(m.items[k].label == "open song" for k in m.added) == 1
    panel.colour.setCurrentIndex(panel.colour.findData("key"))
    assert panel.plot.colour_by == "key"
    _run(qtbot, panel, panel.draw_button)
    assert len(panel.style_map.added) == 2
    show_style_map(window)
    qtbot.wait(50)
    window.grab().save(str(_shot_dir() / "style_map_window.png"))


def test_critic_table_and_bad_input(qtbot, window):
    panel = window.style_map
    _run(qtbot, panel, panel.critic_button)
    table = panel.critic.table
    assert table.rowCount() == 6  # 4 on hand-crafted features, MLP and kNN on learned ones
    assert table.item(4, 1).text() == "small MLP"
    assert panel.views.currentWidget() is panel.critic
    assert panel.critic.confusion.rowCount() == 2
    best = max(panel.critic.results, key=lambda r: r.accuracy)
    assert best.accuracy > best.chance + 0.15
    show_style_map(window)
    qtbot.wait(50)
    panel.grab().save(str(_shot_dir() / "style_critic.png"))

    for k in range(panel.sources.count()):  # only the piano folder: one class
        item = panel.sources.item(k)
        item.setCheckState(Qt.CheckState.Checked if item.text() == "piano"
                           else Qt.CheckState.Unchecked)
    with qtbot.waitSignal(panel.runner.failed, timeout=30000):
        qtbot.mouseClick(panel.critic_button, Qt.MouseButton.LeftButton)
    assert "at least two classes" in panel.status.text()
    for k in range(panel.sources.count()):
        panel.sources.item(k).setCheckState(Qt.CheckState.Unchecked)
    qtbot.mouseClick(panel.draw_button, Qt.MouseButton.LeftButton)
    assert "Tick at least one" in panel.status.text()


def test_cancel_and_close_while_running(qtbot, window):
    panel = window.style_map
    panel.limit.setValue(200)
    qtbot.mouseClick(panel.draw_button, Qt.MouseButton.LeftButton)
    assert panel.cancel_button.isEnabled()
    qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    assert panel.status.text() == "Cancelled." and panel.draw_button.isEnabled()
    assert panel.style_map is None
    qtbot.mouseClick(panel.critic_button, Qt.MouseButton.LeftButton)
    assert panel.runner.is_running()
    window.close()  # cancels and waits: no thread left running
    assert not panel.runner.is_running() and not panel.runner._old


def test_style_map_goes_into_the_dataset_panel_when_it_offers_tabs(qtbot):
    from studio.ui.style_map import style_map_feature

    class TabbedPanel(QTabWidget):  # the dataset panel's documented hook: add_tab(widget, title)
        def add_tab(self, widget, title):
            self.addTab(widget, title)

    w = MainWindow()
    qtbot.addWidget(w)
    for dock in list(w.docks.values()):
        if dock.windowTitle() == "Style map":
            w.removeDockWidget(dock)
    w.dataset_panel = TabbedPanel()
    panel = style_map_feature.install(w)
    assert w.dataset_panel.widget(0).widget() is panel  # in a scroll area
    assert w.dataset_panel.tabText(0) == "Style map"
    panel.shutdown()


def _shot_dir():
    from pathlib import Path

    d = Path(__file__).resolve().parents[3] / "build" / "screenshots"
    d.mkdir(parents=True, exist_ok=True)
    return d


def test_trained_models_are_feature_choices_for_the_map_and_the_critic(qtbot, window):
    panel = window.style_map
    texts = [panel.features.itemText(k) for k in range(panel.features.count())]
    assert "Learned: melody VAE code (vae-melody)" in texts
    assert "Learned: LSTM hidden state (lstm-melody)" in texts
    assert not any("harmonizer" in t for t in texts)  # four-part models cannot describe songs
    panel.limit.setValue(16)
    panel.features.setCurrentIndex(texts.index("Learned: LSTM hidden state (lstm-melody)"))
    _run(qtbot, panel, panel.critic_button)
    reps = [r.representation for r in panel.critic.results]
    assert reps.count("LSTM hidden state (lstm-melody)") == 2  # the MLP and kNN beside the SVMs
    mlp = next(r for r in panel.critic.results if r.classifier == "mlp")
    assert mlp.accuracy > mlp.chance + 0.15
    _run(qtbot, panel, panel.draw_button)
    assert panel.style_map.title and "lstm-melody" in panel.style_map.title
    show_style_map(window)
    qtbot.wait(50)
    panel.grab().save(str(_shot_dir() / "style_map_lstm.png"))
