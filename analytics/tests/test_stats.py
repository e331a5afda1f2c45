import math

import numpy as np
import pytest

from analytics.stats import Axis, nice_edges


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
