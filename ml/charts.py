"""Figures of a model version: its card, and the answer to one prediction.

Pure: numbers in, Plotly figures out, in the site's chart template.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from analytics.charts import COLORWAY, RARITY_COLORS


def _colors(classes: list[str]) -> list[str]:
    if all(name.startswith("Rank ") for name in classes):
        return [RARITY_COLORS[int(name.split()[-1]) % len(RARITY_COLORS)] for name in classes]
    return [COLORWAY[i % len(COLORWAY)] for i in range(len(classes))]


def _small(figure: go.Figure, title: str, height: int = 320) -> go.Figure:
    figure.update_layout(
        title={"text": title, "x": 0.01}, height=height, margin={"l": 60, "r": 20, "t": 50, "b": 50}
    )
    return figure


def probability_figure(probabilities: dict[str, float]) -> go.Figure:
    classes = list(probabilities)
    figure = go.Figure(
        go.Bar(
            x=classes,
            y=[probabilities[name] for name in classes],
            marker_color=_colors(classes),
            text=[f"{probabilities[name]:.1%}" for name in classes],
            textposition="outside",
            hovertemplate="%{x}: %{y:.2%}<extra></extra>",
        )
    )
    figure.update_layout(
        yaxis={"range": [0, 1.15], "tickformat": ".0%", "title": "Probability"}, showlegend=False
    )
    return _small(figure, "Probability of each class")


def confusion_figure(classes: list[str], matrix: list[list[int]]) -> go.Figure:
    figure = go.Figure(
        go.Heatmap(
            z=matrix,
            x=classes,
            y=classes,
            text=matrix,
            texttemplate="%{text}",
            hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>",
            showscale=False,
        )
    )
    figure.update_layout(xaxis_title="Predicted", yaxis_title="True", yaxis={"autorange": "reversed"})
    return _small(figure, "Confusion matrix (test rows)", height=360)


def importance_figure(importances: dict[str, float], score_name: str = "Accuracy") -> go.Figure:
    ordered = sorted(importances.items(), key=lambda item: item[1])
    figure = go.Figure(
        go.Bar(
            x=[value for _, value in ordered],
            y=[name for name, _ in ordered],
            orientation="h",
            marker_color=COLORWAY[0],
            hovertemplate="%{y}: the score drops by %{x:.3f} when shuffled<extra></extra>",
        )
    )
    figure.update_layout(xaxis_title=f"{score_name} lost when the field is shuffled")
    return _small(figure, "Feature importance")


def reliability_figure(calibration: dict) -> go.Figure:
    """Mean confidence against accuracy per bin: honest confidences lie on the diagonal."""
    bins = calibration["bins"]
    figure = go.Figure(
        [
            go.Scatter(
                x=[0, 1],
                y=[0, 1],
                mode="lines",
                name="perfectly calibrated",
                line={"dash": "dot", "color": "#9aa1b5"},
                hoverinfo="skip",
            ),  # fmt: skip
            go.Scatter(
                x=[b["confidence"] for b in bins],
                y=[b["accuracy"] for b in bins],
                mode="lines+markers",
                name="this model",
                marker={"size": [6 + min(18, b["count"] ** 0.5 / 3) for b in bins], "color": COLORWAY[1]},
                customdata=[b["count"] for b in bins],
                hovertemplate="confidence %{x:.2f}: right %{y:.1%} of %{customdata:,} times<extra></extra>",
            ),
        ]
    )
    figure.update_layout(
        xaxis={"title": "Confidence", "range": [0, 1.02]},
        yaxis={"title": "Accuracy", "range": [0, 1.02]},
        legend={"x": 0.02, "y": 0.98},
    )
    return _small(figure, f"Reliability (calibration error {calibration['ece']:.3f})", height=360)


def what_if_figure(curve: pd.DataFrame, label: str, value: float) -> go.Figure:
    """Each class's probability as the field labelled `label` varies (index), the other inputs held."""
    classes = list(curve.columns)
    figure = go.Figure(
        [
            go.Scatter(x=curve.index, y=curve[name], mode="lines", name=name, line={"color": color})
            for name, color in zip(classes, _colors(classes), strict=True)
        ]
    )
    figure.add_vline(x=value, line={"dash": "dot", "color": "#9aa1b5"})
    figure.update_layout(
        xaxis_title=label,
        yaxis={"title": "Probability", "range": [0, 1.02], "tickformat": ".0%"},
        hovermode="x unified",
    )
    return _small(figure, f"What if the {label.lower()} changed?", height=360)


def value_what_if_figure(curve: pd.DataFrame, label: str, value: float, target: str) -> go.Figure:
    """The predicted number as `field` varies (index), the other inputs held."""
    figure = go.Figure(
        go.Scatter(x=curve.index, y=curve[target], mode="lines", name=target, line={"color": COLORWAY[0]})
    )
    figure.add_vline(x=value, line={"dash": "dot", "color": "#9aa1b5"})
    figure.update_layout(xaxis_title=label, yaxis_title=f"Predicted {target}", showlegend=False)
    return _small(figure, f"What if the {label.lower()} changed?", height=360)


def actual_predicted_figure(points: dict, target: str) -> go.Figure:
    """Predicted against actual on test rows: a good model's points hug the diagonal."""
    actual, predicted = points["actual"], points["predicted"]
    low, high = min(actual + predicted, default=0), max(actual + predicted, default=1)
    figure = go.Figure(
        [
            go.Scatter(x=[low, high], y=[low, high], mode="lines", name="perfect",
                       line={"dash": "dot", "color": "#9aa1b5"}),
            go.Scatter(x=actual, y=predicted, mode="markers", name="test rows",
                       marker={"color": COLORWAY[0], "size": 5, "opacity": 0.6},
                       hovertemplate="actual %{x:.4g}, predicted %{y:.4g}<extra></extra>"),
        ]
    )  # fmt: skip
    figure.update_layout(xaxis_title=f"Actual {target}", yaxis_title=f"Predicted {target}", showlegend=False)
    return _small(figure, "Predicted against actual (test rows)", height=360)


def residual_figure(points: dict, target: str) -> go.Figure:
    """Residual (actual minus predicted) against the prediction: no pattern is what a good model leaves."""
    residuals = [a - p for a, p in zip(points["actual"], points["predicted"], strict=True)]
    figure = go.Figure(
        go.Scatter(x=points["predicted"], y=residuals, mode="markers",
                   marker={"color": COLORWAY[1], "size": 5, "opacity": 0.6},
                   hovertemplate="predicted %{x:.4g}, off by %{y:.4g}<extra></extra>")
    )  # fmt: skip
    figure.add_hline(y=0, line={"dash": "dot", "color": "#9aa1b5"})
    figure.update_layout(
        xaxis_title=f"Predicted {target}", yaxis_title="Actual − predicted", showlegend=False
    )
    return _small(figure, "Residuals (test rows)", height=360)


def metric_over_versions_figure(
    versions: list[tuple[int, float, float | None]], label: str, marked
) -> go.Figure:
    """A group's test figure per version (version, figure, baseline), the compared versions marked."""
    numbers = [f"v{number}" for number, _, _ in versions]
    figure = go.Figure(
        [
            go.Scatter(x=numbers, y=[value for _, value, _ in versions], mode="lines+markers", name=label,
                       marker={"size": [14 if number in marked else 7 for number, _, _ in versions],
                               "color": COLORWAY[0]}),
            go.Scatter(x=numbers, y=[base for _, _, base in versions], mode="lines", name="baseline",
                       line={"dash": "dot", "color": "#9aa1b5"}),
        ]
    )  # fmt: skip
    figure.update_layout(xaxis={"title": "Version", "type": "category"}, yaxis_title=f"Test {label}",
                         legend={"orientation": "h", "y": 1.12})  # fmt: skip
    return _small(figure, f"Test {label} over the versions", height=320)


def predictions_per_day_figure(per_day: list[dict]) -> go.Figure:
    days = [row["day"].isoformat() for row in per_day]
    figure = go.Figure(
        [
            go.Bar(
                x=days,
                y=[row["count"] - row["unusual"] for row in per_day],
                name="like the training data",
                marker_color=COLORWAY[0],
            ),  # fmt: skip
            go.Bar(
                x=days,
                y=[row["unusual"] for row in per_day],
                name="unlike it (flagged)",
                marker_color=COLORWAY[3],
            ),
        ]
    )
    figure.update_layout(barmode="stack", yaxis_title="Predictions", legend={"orientation": "h", "y": 1.1})
    return _small(figure, "Predictions per day", height=340)


def class_mix_figure(predicted: dict[str, int], training: dict[str, int]) -> go.Figure:
    """Each class's share of recent predictions beside its share of the training rows."""
    classes = sorted(set(predicted) | set(training))

    def shares(counts: dict[str, int]) -> list[float]:
        total = sum(counts.values()) or 1
        return [counts.get(name, 0) / total for name in classes]

    figure = go.Figure(
        [
            go.Bar(
                x=classes, y=shares(training), name="training rows (active version)", marker_color=COLORWAY[4]
            ),
            go.Bar(x=classes, y=shares(predicted), name="predictions", marker_color=COLORWAY[1]),
        ]
    )
    figure.update_layout(barmode="group", yaxis={"tickformat": ".0%", "title": "Share"},
                         legend={"orientation": "h", "y": 1.1})  # fmt: skip
    return _small(figure, "Predicted class mix against the training mix", height=340)
