"""The attacks of `bench_reliability.py`, one function per area, each returning an `Area`:
how many attacks were tried and how many held (see that script's docstring for what holding
means). They use only what every version of the studio offers (`read_song`, `load_project`,
`load_checkpoint`, `DatasetStore`, ...), so the same attacks run on a reference checkout.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.fuzz import cases as fuzz
from tests.midi import hostile_files

REPO = Path(__file__).resolve().parents[1]
CODE = Path(os.environ.get("STUDIO_BENCH_CODE", REPO)).resolve()  # the studio under attack


class AttackHung(Exception):
    """An attack that got no answer in time (not an OSError: readers turn those into their
    own errors, which would pass for a clear refusal)."""


class Area:
    def __init__(self, name: str) -> None:
        self.name, self.tried, self.held, self.failures = name, 0, 0, []

    def check(self, label: str, attack, timeout_s: int = 60) -> None:
        """Run one attack: it holds when it returns True without an unexpected exception,
        within `timeout_s` (a hang, such as waiting on a FIFO, is an attack that did not
        hold)."""
        self.tried += 1

        def hung(signum, frame):
            raise AttackHung(f"no answer within {timeout_s} s")
        previous = signal.signal(signal.SIGALRM, hung)
        signal.alarm(timeout_s)
        try:
            ok = attack()
        except Exception as e:  # an unexpected exception is an attack that did not hold
            ok, label = False, f"{label}: {type(e).__name__}: {str(e)[:120]}"
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)
        if ok:
            self.held += 1
        else:
            self.failures.append(label)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _one_line(error: Exception, name: str) -> bool:
    return "\n" not in str(error) and name in str(error)


# ---- areas ------------------------------------------------------------------------------------

def midi_area(work: Path) -> Area:
    from studio.midi import MidiReadError, read_song

    area = Area("MIDI files")

    def read(data: bytes, name: str = "case.mid"):
        path = work / name
        path.write_bytes(data)

        def attack() -> bool:
            try:
                read_song(path)
                return True
            except MidiReadError as e:
                return _one_line(e, str(path))
        return attack

    for label, data in fuzz.midi_cases(200, seed=19):
        area.check(label, read(data))
    # Floods one event past this version's limits: they hold when refused, naming the kind
    # (a studio that reads them holds the whole flood in memory).
    over = {"controllers": 1_000_001, "pitch bends": 1_000_001, "tempo": 100_001,
            "time signatures": 10_001, "key signatures": 10_001, "lyrics": 1_000_001}
    for kind, count in over.items():
        path = work / f"{kind}.mid"
        path.write_bytes(hostile_files.event_flood(kind, count))

        def refused(path=path) -> bool:
            try:
                read_song(path)
            except MidiReadError as e:
                return _one_line(e, str(path)) and "more than" in str(e)
            return False
        area.check(f"{count:,} {kind}", refused)
    fifo = work / "pipe.mid"
    if hasattr(os, "mkfifo"):
        os.mkfifo(fifo)

        def pipe() -> bool:
            try:
                read_song(fifo)
            except MidiReadError as e:
                return "this is a pipe" in str(e)
            return False
        area.check("a FIFO named .mid", pipe, timeout_s=10)
    odd = os.fsencode(work) + b"/caf\xe9\xff.mid"
    with open(odd, "wb") as f:
        f.write(fuzz.midi_seeds()[0])
    area.check("a file name that is not UTF-8", lambda: read_song(os.fsdecode(odd)) is not None)
    return area


def project_area(work: Path) -> Area:
    from studio.midi import MidiWriteError, write_song
    from studio.music.project import Project, ProjectError, load_project, save_project

    area = Area("Projects")
    path = work / "case.studio"

    def attack_for(data: bytes):
        def attack() -> bool:
            path.write_bytes(data)
            try:
                project = load_project(path)
            except ProjectError as e:
                return _one_line(e, path.name)
            save_project(work / "again.studio", project)
            if load_project(work / "again.studio").song.note_count != project.song.note_count:
                return False
            try:
                write_song(project.song, work / "export.mid")
            except MidiWriteError as e:
                return _one_line(e, "export.mid")
            return True
        return attack

    for label, data in fuzz.json_cases(fuzz.project_seeds(), 100, seed=19):
        area.check(label, attack_for(data))
    for mspq in (1, 5999, 0xFFFFFF):  # extreme tempos from real MIDI files
        from studio.midi import read_song_bytes

        track = (b"\x00\xff\x51\x03" + mspq.to_bytes(3, "big") + b"\x00\x90\x3c\x64\x83\x60"
                 b"\x80\x3c\x00\x00\xff\x2f\x00")
        data = (b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x01\xe0MTrk"
                + len(track).to_bytes(4, "big") + track)
        song = read_song_bytes(data, "tempo.mid")

        def tempo(song=song) -> bool:
            save_project(work / "tempo.studio", Project(song))
            return load_project(work / "tempo.studio").song.note_count == 1
        area.check(f"tempo {60_000_000 / mspq:.1f} qpm saved and opened", tempo)
    return area


def model_area(work: Path) -> Area:
    from studio.ml.checkpoint import load_checkpoint, save_checkpoint
    from studio.ml.errors import StudioMLError
    from studio.ml.library import list_models
    from studio.ml.registry import create_family
    from studio.paths import user_models_dir

    area = Area("Model files")
    library = user_models_dir()
    tiny = {"hidden": 16, "embedding": 8, "layers": 1, "window": 16}
    family = create_family("gru", tiny)
    save_checkpoint(work / "tiny", family, family.build())
    current = (work / "tiny.json").read_bytes(), (work / "tiny.safetensors").read_bytes()
    seeds = fuzz.card_seeds()
    for i in range(60):
        rng = random.Random(19_000 + i)  # one per case: the same attack on any version
        stem, card, weights = seeds[i % len(seeds)]
        kind = i % 4
        if kind == 0:
            files = (fuzz.mutate_json(card, rng), weights)
        elif kind == 1:
            files = (card, fuzz.mutate_bytes(weights[:4096], rng) + weights[4096:])
        elif kind == 2:
            try:
                from studio.ml import safetensors_header
            except ImportError:  # a studio without cards inside the weights: not an attack
                continue
            header, _ = safetensors_header.split(current[1])
            meta = dict(safetensors_header.metadata(header))
            meta["studio_card"] = fuzz.mutate_json(meta["studio_card"].encode(), rng).decode(
                "utf-8", "replace")
            try:
                files = (current[0], safetensors_header.with_metadata(current[1], meta))
            except UnicodeEncodeError:
                files = current
        else:
            files = (current[0], fuzz.mutate_bytes(current[1][:2048], rng) + current[1][2048:])

        def attack(i=i, files=files) -> bool:
            (library / f"case{i}.json").write_bytes(files[0])
            (library / f"case{i}.safetensors").write_bytes(files[1])
            entry = {e.name: e for e in list_models()}[f"case{i}"]
            _ = (entry.model, entry.dataset, entry.modes, entry.best_metrics, entry.created)
            try:
                load_checkpoint(library / f"case{i}")
            except StudioMLError as e:
                return _one_line(e, f"case{i}")
            return True
        area.check(f"model file mutation {i}", attack)
    import torch

    for bad in (float("nan"), float("inf")):
        state = {k: v.clone() for k, v in family.build().state_dict().items()}
        next(iter(state.values())).view(-1)[0] = bad

        def nonfinite(state=state) -> bool:
            save_checkpoint(work / "bad", family, state)
            try:
                load_checkpoint(work / "bad")
            except StudioMLError as e:
                return "NaN or infinite" in str(e)
            return False
        area.check(f"{bad} weights", nonfinite)
    del torch
    area.check("kills while saving", lambda: _kills_while_saving(work, tiny), timeout_s=300)
    return area


def _kills_while_saving(work: Path, tiny: dict) -> bool:
    """12 SIGKILLs of a writer saving two models in turn: each time the model on disk loads
    and its card is its own."""
    target = work / "killed"
    script = textwrap.dedent(f"""
        import json, os, signal, time
        import torch
        torch.set_num_threads(1)
        from studio.ml.checkpoint import load_checkpoint, read_card, save_checkpoint
        from studio.ml.registry import create_family
        family = create_family("gru", {tiny!r})
        models = [family.build(), family.build()]
        save_checkpoint({str(target)!r}, family, models[1], {{"round": -1}})  # the old model
        ok = 0
        for k in range(12):
            pid = os.fork()
            if pid == 0:
                i = 1000 * k
                while True:
                    save_checkpoint({str(target)!r}, family, models[i % 2], {{"round": i}})
                    i += 1
            time.sleep(0.03 + 0.011 * k)
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            try:
                loaded = load_checkpoint({str(target)!r})
                ok += read_card({str(target)!r})["round"] == loaded.card["round"]
            except Exception:
                pass
        print(ok)
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=300, env={**os.environ, "PYTHONPATH": str(CODE)})
    return run.stdout.strip() == "12"


def dataset_area(work: Path) -> Area:
    import shutil

    from studio.data.errors import DatasetError
    from studio.data.importer import import_folder
    from studio.data.store import DatasetStore
    from studio.midi import write_song

    area = Area("Dataset folders")
    music = work / "music"
    music.mkdir()
    shutil.copyfile(fuzz.SEEDS / "bach_format0.mid", music / "bach_format0.mid")
    for i, song in enumerate(fuzz.seed_songs()):
        write_song(song, music / f"chorale {i}.mid")
    with open(os.fsencode(music) + b"/caf\xe9\xff.mid", "wb") as f:
        f.write(fuzz.midi_seeds()[1])
    template_store = DatasetStore(work / "template")
    import_folder(music, "fuzz set", store=template_store, workers=1)
    template = template_store.folder("fuzz set")
    targets = ["manifest.json", "manifest.json", "info.json", "stats.npz", "pack"]
    for i in range(40):
        rng = random.Random(1019_000 + i)
        root = work / f"root{i}"
        shutil.copytree(template, root / template.name)
        target = rng.choice(targets)
        path = rng.choice(sorted((root / template.name / "pieces").iterdir())) \
            if target == "pack" else root / template.name / target
        data = path.read_bytes()
        path.write_bytes(fuzz.mutate_json(data, rng) if target.endswith(".json")
                         else fuzz.mutate_bytes(data, rng))

        def attack(root=root) -> bool:
            store = DatasetStore(root)
            for name in store.names():
                try:
                    for piece in store.load(name).pieces:
                        try:
                            piece.song()
                        except DatasetError as e:
                            if "\n" in str(e):
                                return False
                except DatasetError as e:
                    if "\n" in str(e):
                        return False
            return True
        area.check(f"damaged {target} {i}", attack)
    return area


def write_area(work: Path) -> Area:
    from studio.midi import write_song
    from studio.music.project import Project, save_project

    area = Area("Writes")
    song = fuzz.seed_songs()[0]
    for mask, mode in ((0o022, 0o644), (0o002, 0o664), (0o077, 0o600)):
        old = os.umask(mask)
        try:
            write_song(song, work / f"m{mask}.mid")
            save_project(work / f"p{mask}.studio", Project(song))
        finally:
            os.umask(old)
        area.check(f"umask {mask:03o} gives {mode:o}",
                   lambda mask=mask, mode=mode: all(
                       os.stat(work / f).st_mode & 0o777 == mode
                       for f in (f"m{mask}.mid", f"p{mask}.studio")))
    target = work / "killed.mid"
    write_song(song, target)
    script = textwrap.dedent(f"""
        import os, time
        from studio.midi import read_song, write_song
        from studio.music import Note, Song, Track
        songs = [Song([Track("p", notes=[Note(60 + (i + k) % 12, i * 60, 60, 90)
                                        for i in range(150_000)])]) for k in range(2)]
        write_song(songs[1], {str(target)!r})  # the old file
        for k in range(20):
            pid = os.fork()
            if pid == 0:
                while True:
                    write_song(songs[k % 2], {str(target)!r})
            time.sleep(0.05 + 0.01 * k)
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            print(read_song({str(target)!r}, isolated=False).note_count == 150_000, flush=True)
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=300, env={**os.environ, "PYTHONPATH": str(CODE)})
    lines = run.stdout.split()
    for i in range(20):
        area.check(f"kill {i} during a MIDI export",
                   lambda i=i: i < len(lines) and lines[i] == "True")
    write_song(song, target)
    area.check("umask mode and no debris after the kills", lambda: not [
        p for p in work.iterdir() if p.name.startswith(".killed.mid.")]
        and os.stat(target).st_mode & 0o777 == 0o666 & ~_umask())
    return area
