"""Deterministic fuzz cases, built from real files of the repository: a real-world MIDI file
(`seeds/bach_format0.mid`, piano-midi.de, CC BY-SA 3.0 DE), JSB chorales of
`resources/data/jsb` written by Studio's MIDI writer, projects of those songs, and the shipped
models in `models/`. Every case is `(name, bytes)` from a `random.Random(seed)`, so a failure
names a case that reproduces exactly. `benchmarks/bench_reliability.py` counts the same cases.

Mutations: for binary files, bit flips, byte overwrites with boundary values, insertions,
deletions, truncations, splices of two files, chunk lengths and varlen delta times made huge;
for JSON, a value somewhere in the tree replaced by a hostile one (huge or non-finite numbers,
wrong types, deep nesting, escape sequences, lone surrogates), keys removed, lists and tables
swapped, and the text itself cut or flipped.
"""

from __future__ import annotations

import json
import random
import struct
from functools import lru_cache
from pathlib import Path

from tests.midi.hostile_files import KINDS, event_flood, overflowing_delta_times, riff_without_data

REPO = Path(__file__).resolve().parents[2]
SEEDS = Path(__file__).resolve().parent / "seeds"
MODELS = REPO / "models"


# ---- seeds ------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def seed_songs() -> tuple:
    """Three JSB chorales (the repository's data) as songs."""
    from studio.data.builtin import jsb_arrays
    from studio.music.grids import satb_to_song

    arrays = jsb_arrays()["test"][:3]
    return tuple(satb_to_song(a) for a in arrays)


@lru_cache(maxsize=1)
def midi_seeds() -> tuple[bytes, ...]:
    from studio.midi import song_to_midi_bytes

    return ((SEEDS / "bach_format0.mid").read_bytes(),
            *(song_to_midi_bytes(s) for s in seed_songs()))


@lru_cache(maxsize=1)
def project_seeds() -> tuple[bytes, ...]:
    from studio.music.project import Project, project_to_bytes

    return tuple(project_to_bytes(Project(s, settings={"zoom": 1.5})) for s in seed_songs())


@lru_cache(maxsize=1)
def card_seeds() -> tuple[tuple[str, bytes, bytes], ...]:
    """(stem, card JSON, weights) of each shipped model."""
    return tuple((p.stem, p.read_bytes(), p.with_suffix(".safetensors").read_bytes())
                 for p in sorted(MODELS.glob("*.json")))


# ---- byte mutations ---------------------------------------------------------------------------

BOUNDARY = [0x00, 0x7F, 0x80, 0xFF, 0xF0, 0xF7, 0x90, 0xB0, 0xE0, 0x2F, 0x51]


def _varlen_bomb(rng: random.Random) -> bytes:
    return rng.choice([b"\xff\xff\xff\x7f", b"\x8f\xff\xff\xff\x7f", b"\xff" * 9 + b"\x00"])


def mutate_bytes(data: bytes, rng: random.Random, others: tuple[bytes, ...] = ()) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if not b:
            b += bytes(rng.choice(BOUNDARY) for _ in range(8))
        op = rng.randrange(9)
        i = rng.randrange(len(b))
        if op == 0:
            b[i] ^= 1 << rng.randrange(8)
        elif op == 1:
            b[i] = rng.choice(BOUNDARY)
        elif op == 2:
            b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        elif op == 3:
            del b[i:i + rng.randint(1, 64)]
        elif op == 4:
            del b[rng.randrange(len(b) + 1):]
        elif op == 5 and others:
            other = rng.choice(others)
            j = rng.randrange(len(other) + 1)
            b = b[:i] + bytearray(other[j:j + rng.randint(1, 4096)])
        elif op == 6:  # a chunk length made huge, zero or off by some
            at = b.find(b"MTrk", rng.randrange(len(b)))
            at = b.find(b"MTrk") if at < 0 else at
            if at >= 0 and at + 8 <= len(b):
                value = rng.choice([0, 0xFFFFFFFF, 0x7FFFFFFF,
                                    struct.unpack(">I", b[at + 4:at + 8])[0] + rng.randint(-9, 9)])
                b[at + 4:at + 8] = struct.pack(">I", max(0, value) & 0xFFFFFFFF)
        elif op == 7:
            b[i:i] = _varlen_bomb(rng)
        else:  # a header field: format, track count, division
            if len(b) >= 14:
                k = rng.choice([8, 10, 12])
                b[k:k + 2] = struct.pack(">H", rng.choice([0, 1, 2, 3, 0x7FFF, 0x8000, 0xFFFF]))
    return bytes(b)


def midi_cases(count: int, seed: int = 1) -> list[tuple[str, bytes]]:
    """`count` hostile MIDI files: mutated seeds, and small floods of every event kind."""
    rng = random.Random(seed)
    seeds = midi_seeds()
    cases = [("riff without data", riff_without_data()),
             ("overflowing delta times", overflowing_delta_times())]
    cases += [(f"{kind} flood", event_flood(kind, 3000)) for kind in KINDS]
    while len(cases) < count:
        n = len(cases)
        cases.append((f"midi mutation {n}", mutate_bytes(rng.choice(seeds), rng, seeds)))
    return cases[:count]


# ---- JSON mutations ---------------------------------------------------------------------------

def _hostile_value(rng: random.Random):
    return rng.choice([
        10**30, -(10**30), 2**62, -1, 0, 1.5, float("nan"), float("inf"), -float("inf"),
        True, None, "", "\x1b[31m\x07", "\udcff", "9" * 5000, [], {}, [[[[]]]],
        "[" * 50, {"a": [1, {"b": None}]}, list(range(50)),
    ])


def _paths(doc, prefix=()):
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc[:8]):  # the first few items of long columns
            yield from _paths(v, prefix + (i,))


def _set(doc, path, value):
    if not path:
        return value
    node = doc
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    return doc


def _nudged(value, rng: random.Random):
    """A plausible value near `value`: what a bug or a hand edit makes, not only garbage."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return rng.choice([0, 1, -1, 127, 128, 480])
    return rng.choice([value + 1, value - 1, -value, value * 1000, 0, 127, 128, 16, 2**31,
                       value / 3])


def mutate_json(text: bytes, rng: random.Random) -> bytes:
    """A JSON document with one (sometimes two or three) hostile changes, or its text cut or
    flipped."""
    if rng.random() < 0.1:
        return mutate_bytes(text, rng)
    doc = json.loads(text)
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        paths = list(_paths(doc))
        path = rng.choice(paths[1:] or paths)
        parent = doc
        for k in path[:-1]:
            parent = parent[k]
        value = parent[path[-1]] if path else doc
        op = rng.choices(range(5), weights=[40, 30, 10, 12, 8])[0]
        if op == 0:
            doc = _set(doc, path, _hostile_value(rng))
        elif op == 1:
            doc = _set(doc, path, _nudged(value, rng))
        elif op == 2 and path:  # a key or item removed
            try:
                del parent[path[-1]]
            except (KeyError, IndexError, TypeError):
                pass
        elif op == 3:  # a table becomes a list, a list a table
            swapped = list(value.values()) if isinstance(value, dict) else \
                {str(i): v for i, v in enumerate(value)} if isinstance(value, list) else [value]
            doc = _set(doc, path, swapped)
        else:  # nested lists, spliced into the text after encoding
            doc = _set(doc, path, f"@nested{rng.choice([70, 900, 5000])}@")
    out = json.dumps(doc)
    for depth in (70, 900, 5000):
        out = out.replace(f'"@nested{depth}@"', "[" * depth + "]" * depth)
    return out.encode("utf-8", "surrogatepass")


def json_cases(seeds: tuple[bytes, ...], count: int, seed: int) -> list[tuple[str, bytes]]:
    rng = random.Random(seed)
    return [(f"json mutation {i}", mutate_json(rng.choice(seeds), rng)) for i in range(count)]
