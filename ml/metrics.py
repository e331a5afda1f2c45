"""The predictions' counters, served with the rest at /metrics (bandersnatch.metrics).

Counted where they are logged (services.predictions_log), so the counters and
the prediction log tell the same story: what the API and the /model page
answered, by model version and source.
"""

from __future__ import annotations

from collections import Counter as Tally

from prometheus_client import Counter

PREDICTIONS = Counter(
    "bandersnatch_predictions",
    "Predictions answered, by model version and source (api, page).",
    ["model_version", "source"],
)
OUT_OF_DISTRIBUTION = Counter(
    "bandersnatch_predictions_out_of_distribution",
    "Predictions whose input was unlike the version's training data, by model version and source.",
    ["model_version", "source"],
)


def predictions_count(answers: list[dict], *, source: str) -> None:
    """Count answers (Machine.answers), one increment per version however large the batch."""
    answered = Tally(answer["model_version"] for answer in answers)
    unusual = Tally(answer["model_version"] for answer in answers if not answer["in_distribution"])
    for version, count in answered.items():
        PREDICTIONS.labels(model_version=str(version), source=source).inc(count)
    for version, count in unusual.items():
        OUT_OF_DISTRIBUTION.labels(model_version=str(version), source=source).inc(count)
