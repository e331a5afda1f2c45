"""Model quality on real data: the CSV files scikit-learn ships, loaded as datasets.

For each table the default model of its task (what `manage.py train --dataset`
trains with no options) against a default scikit-learn random forest fitted
on the same training rows and scored on the same test rows, for ten splits.
"""

from __future__ import annotations

import statistics

SEEDS = range(10)


def run(count: int, *, repeat: int, log) -> str:
    from analytics.datasets import dataset_delete
    from analytics.frames import dataset_frame
    from analytics.models import Dataset
    from ml.services import model_version_train
    from ml.tests.real_data import TABLES, forest_score, table_dataset
    from ml.training import fit_and_score

    lines = [
        "Default model (as `manage.py train --dataset SLUG` trains it) against a default scikit-learn random "
        "forest on the same split, test accuracy (classification) or R² (regression), for split seeds 0-9; "
        "seed 0 is the split `make test` checks:",
        "",
        "| table | rows | task | default model | seed 0: default | seed 0: forest | mean: default "
        "| mean: forest | default ≥ forest |",
        "| --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in TABLES:
        for old in Dataset.objects.filter(name=name.replace("_", " ").title()):
            dataset_delete(old)
        dataset = table_dataset(name)
        version = model_version_train(dataset=dataset, seed=0, activate=False)
        frame = dataset_frame(dataset)
        ours, forest = [], []
        for seed in SEEDS:
            result = fit_and_score(
                frame, columns=dataset.column_list, target=version.target, random_state=seed
            )
            ours.append(result.metrics["r2" if result.task == "regression" else "accuracy"])
            forest.append(forest_score(frame, result, version.target, seed=seed))
        wins = sum(o >= f for o, f in zip(ours, forest, strict=True))
        cells = [
            name,
            f"{len(frame):,}",
            version.task,
            f"`{version.algorithm}`",
            f"{ours[0]:.4f}",
            f"{forest[0]:.4f}",
            f"{statistics.mean(ours):.4f}",
            f"{statistics.mean(forest):.4f}",
            f"{wins} of {len(SEEDS)}",
        ]
        log("   " + " | ".join(cells))
        lines.append("| " + " | ".join(cells) + " |")
        dataset_delete(dataset)
    return "\n".join([*lines, ""])
