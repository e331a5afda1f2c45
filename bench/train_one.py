"""Train once in a fresh process and print what it cost, as JSON.

Run by bench.ml so each training's peak memory is its own:
python -m bench.train_one ALGORITHM  (or "original" for the original app's forest)
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

from .django_setup import configure

FRESH_ROWS = 10_000


def peak_mb() -> float:
    """This process's peak resident memory.

    Linux's VmHWM: ru_maxrss keeps, across exec, the resident size of the
    benchmark process this one was forked from (gigabytes after a million-row
    run), which would hide the training's own peak.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fresh_accuracy(predict) -> float:
    """Accuracy on 10,000 new monsters from the same design (a fixed seed)."""
    import numpy as np

    from monsters.generator import generate_monsters

    fresh = generate_monsters(FRESH_ROWS, rng=np.random.default_rng(7))
    return float((np.asarray(predict(fresh)) == fresh["rarity"].astype(str).to_numpy()).mean())


def train(algorithm: str) -> dict:
    started = time.perf_counter()
    if algorithm == "original":
        # The original app: a default random forest on the four raw columns, fit on every row.
        from sklearn.ensemble import RandomForestClassifier

        from monsters.services import monsters_frame

        frame = monsters_frame(columns=["level", "health", "energy", "sanity", "rarity"])
        features = frame[["level", "health", "energy", "sanity"]]
        model = RandomForestClassifier().fit(features, frame["rarity"].astype(str))
        seconds = time.perf_counter() - started
        accuracy = fresh_accuracy(lambda rows: model.predict(rows[features.columns]))
    else:
        from ml.services import machine_for, model_version_train

        version = model_version_train(algorithm=algorithm, seed=1, activate=False)
        seconds = time.perf_counter() - started
        machine = machine_for(version)
        accuracy = fresh_accuracy(lambda rows: machine.pipeline.predict(rows))
    return {
        "algorithm": algorithm,
        "seconds": seconds,
        "peak_mb": peak_mb(),
        "fresh_accuracy": accuracy,
    }


if __name__ == "__main__":
    configure()  # the parent run migrated already
    print(json.dumps(train(sys.argv[1])))
