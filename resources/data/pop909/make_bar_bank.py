"""Make `bar_bank.npz`: the bars of the POP909 train songs' piano parts that the shipped
pop-accompanist re-voices (`studio.ml.bar_bank`), so that its first accompaniment does not wait
some ten seconds to read them. Run from the repository root after `pop909.npz` changes:

    PYTHONPATH=$PWD python resources/data/pop909/make_bar_bank.py

The file holds numpy arrays only (and the dataset's fingerprint: a bank made for other songs is
never used, `studio.ml.generation.models.bar_bank` builds one in memory instead).
"""

from __future__ import annotations

from studio.data import load_dataset
from studio.data.pop909 import BAR_BANK_PATH
from studio.ml.bar_bank import BarBank


def main() -> None:
    dataset = load_dataset("pop909")
    bank = BarBank.from_dataset(dataset)
    bank.save(BAR_BANK_PATH, dataset.fingerprint())
    print(f"{BAR_BANK_PATH}: {len(bank)} bars, {len(bank.onset)} notes")


if __name__ == "__main__":
    main()
