import math

import numpy as np
import pandas as pd
import pytest

from analytics.stats import Axis, Moments, nice_edges, quantile_positions, quantiles_from_counts


@pytest.mark.parametrize(
    ("low", "high", "bins"),
    [(1.0, 245.77, 40), (1, 20, 10), (0.3, 0.9, 4), (0.0, 1e-3, 10), (-5.5, 5.5, 7), (100, 100.01, 50)],
)
def test_nice_edges_cover_the_range_with_round_equal_bins(low, high, bins):
    edges = nice_edges(low, high, bins)
    widths = np.diff(edges)
    assert edges[0] <= low and edges[-1] >= high
    assert np.allclose(widths, widths[0])
    assert 1 <= len(widths) <= bins + 1
    mantissa = widths[0] / 10 ** math.floor(math.log10(widths[0]))
    assert any(math.isclose(mantissa, m) for m in (1, 2, 2.5, 5, 10))


def test_nice_edges_of_a_single_value_is_one_bin():
    assert nice_edges(5, 5, 10) == [4.5, 5.5]


def test_axis_positions_and_labels():
    binned = Axis("health", [0, 1], [0.0, 10.0, 20.0])
    assert binned.positions == [5.0, 15.0]
    assert binned.labels == ["0 to 10", "10 to 20"]
    assert binned.width == 10.0
    plain = Axis("type", ["Fey", "Undead"])
    assert plain.positions == ["Fey", "Undead"] and plain.labels == ["Fey", "Undead"]


@pytest.mark.parametrize("size", [1, 2, 5, 1000, 1001])
def test_quantiles_from_counts_match_pandas(size):
    values = pd.Series(np.random.default_rng(size).integers(1, 21, size))
    counts = values.value_counts()
    expected = values.quantile([0.25, 0.5, 0.75]).tolist()
    assert quantiles_from_counts(counts.index.tolist(), counts.tolist()) == pytest.approx(expected)


def test_quantiles_of_nothing_are_nan():
    assert all(math.isnan(q) for q in quantiles_from_counts([], []))


def test_quantile_positions_interpolate_between_ranks():
    assert quantile_positions(5) == [(1, 0.0), (2, 0.0), (3, 0.0)]
    assert quantile_positions(4) == [(0, 0.75), (1, 0.5), (2, 0.25)]


def test_moments_give_pandas_mean_std_and_correlation():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"a": rng.normal(5, 2, 500), "b": rng.normal(0, 1, 500)})
    frame["c"] = frame["a"] * 3 + rng.normal(0, 0.5, 500)
    fields = ["a", "b", "c"]
    moments = Moments(
        count=len(frame),
        sums={f: frame[f].sum() for f in fields},
        squares={f: (frame[f] ** 2).sum() for f in fields},
        products={(a, b): (frame[a] * frame[b]).sum() for i, a in enumerate(fields) for b in fields[i + 1 :]},
    )
    for field in fields:
        assert moments.mean(field) == pytest.approx(frame[field].mean())
        assert moments.std(field) == pytest.approx(frame[field].std())
    pd.testing.assert_frame_equal(moments.correlation_matrix(fields), frame.corr(), atol=1e-9)


def test_moments_of_too_few_rows_are_nan():
    moments = Moments(count=1, sums={"a": 2.0}, squares={"a": 4.0}, products={})
    assert moments.mean("a") == 2.0
    assert math.isnan(moments.std("a"))
