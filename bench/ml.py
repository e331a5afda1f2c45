"""Prediction latency and training cost per algorithm, beside the original forest."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from .django_setup import ROOT
from .timing import timed

MONSTER = {"level": 8, "health": 31.6, "energy": 32.9, "sanity": 32.0}


def bench_prediction(*, repeat: int) -> list[list[str]]:
    """One prediction (class and probabilities) in-process, default model against the original."""
    import pandas as pd
    from sklearn.ensemble import RandomForestClassifier

    from ml.services import machine_for, model_version_train, records_predict
    from monsters.services import monsters_frame

    version = model_version_train(seed=1, activate=False)
    machine = machine_for(version)
    row = pd.DataFrame([MONSTER])
    frame = monsters_frame(columns=["level", "health", "energy", "sanity", "rarity"])
    forest = RandomForestClassifier().fit(frame[list(MONSTER)], frame["rarity"].astype(str))
    cases = [
        ("default model: pipeline.predict_proba, one row", lambda: machine.pipeline.predict_proba(row)),
        ("default model: Machine call, (prediction, confidence)", lambda: machine(row)),
        (
            "default model: records_predict with the in-distribution check",
            lambda: records_predict([MONSTER], machine=machine),
        ),
        ("original: default random forest, predict_proba, one row", lambda: forest.predict_proba(row)),
    ]
    rows = []
    for label, action in cases:
        timing, _ = timed(action, repeat=repeat, warmup=5)
        rows.append([label, f"{timing.median_ms:.3f}", f"{timing.p95_ms:.3f}"])
    return rows


def bench_training(algorithm: str) -> dict:
    """Train in a fresh process (its own peak memory) on every monster in the database."""
    result = subprocess.run(
        [sys.executable, "-m", "bench.train_one", algorithm],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "LOG_LEVEL": "WARNING"},
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


ALGORITHMS = [
    "logistic_regression",
    "hist_gradient_boosting",
    "random_forest",
    "k_nearest_neighbours",
    "original",
]


def run(count: int, *, repeat: int, log, algorithms=ALGORITHMS) -> str:
    lines = [f"### {count:,} monsters", ""]
    if count == 1_000:
        prediction = bench_prediction(repeat=repeat * 20)
        for row in prediction:
            log("   " + " | ".join(row))
        lines += [
            f"One prediction in-process, {repeat * 20} calls after a warm-up "
            "(models trained on these monsters):",
            "",
            "| call | median ms | p95 ms |",
            "| --- | ---: | ---: |",
            *("| " + " | ".join(row) + " |" for row in prediction),
            "",
        ]
    lines += [
        "Training on every monster (read from PostgreSQL, split 80/20, fit, score, store), each in a fresh "
        "process; accuracy on 10,000 new monsters from the same design:",
        "",
        "| algorithm | seconds | peak memory | accuracy on new monsters |",
        "| --- | ---: | ---: | ---: |",
    ]
    for algorithm in algorithms:
        result = bench_training(algorithm)
        log(f"   {count:,} {algorithm}: {result}")
        name = "original: default random forest, fit only" if algorithm == "original" else f"`{algorithm}`"
        cells = [
            name,
            f"{result['seconds']:.1f}",
            f"{result['peak_mb']:,.0f} MB",
            f"{result['fresh_accuracy']:.2%}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join([*lines, ""])
