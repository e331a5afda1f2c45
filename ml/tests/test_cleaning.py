"""The cleaning steps inside a pipeline: defaults per kind, the choices a user makes, raw rows in."""

import numpy as np
import pandas as pd
import pytest

from bandersnatch.columns import Column
from ml.cleaning import cleaning_transformer, datetime_parts, feature_plans, rows_to_drop
from ml.training import fit_and_score

PRICE = Column("price", "Price", "number", nullable=True)
ROOMS = Column("rooms", "Rooms", "integer", nullable=True)
CITY = Column("city", "City", "category", nullable=True, choices=("Ayr", "Bude", "Cork"))
GARDEN = Column("garden", "Garden", "boolean", nullable=True)
BUILT = Column("built", "Built", "datetime", nullable=True)
COLUMNS = (ROOMS, CITY, GARDEN, BUILT, PRICE)


def houses(count: int = 400, seed: int = 0) -> pd.DataFrame:
    """Prices that follow rooms, city and garden, with empty cells in every column."""
    rng = np.random.default_rng(seed)
    rooms = rng.integers(1, 8, count).astype(float)
    city = rng.choice(["Ayr", "Bude", "Cork"], count)
    garden = rng.random(count) < 0.5
    price = 50 * rooms + np.where(city == "Cork", 100, 0) + 30 * garden + rng.normal(0, 10, count)
    frame = pd.DataFrame(
        {
            "rooms": rooms,
            "city": pd.Series(city, dtype=object),
            "garden": pd.Series(garden, dtype=object),
            "built": pd.Timestamp("2000-01-01", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 9000, count), unit="D"),
            "price": price,
        }
    )
    for position, name in enumerate(("rooms", "city", "garden", "built", "price")):
        frame.loc[frame.sample(frac=0.05, random_state=position).index, name] = None
    return frame


def test_defaults_fill_numbers_with_the_median_and_categories_with_the_most_frequent():
    plans = {plan.name: plan for plan in feature_plans([ROOMS, CITY, GARDEN, BUILT])}
    assert (plans["rooms"].empty, plans["city"].empty, plans["garden"].empty) == (
        "median",
        "most_frequent",
        "most_frequent",
    )
    assert (plans["built"].shape, plans["built"].empty) == ("datetime", "median")


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"city": {"empty": "mean"}}, "Empty cells of city can be most_frequent, constant, drop, not 'mean'"),
        (
            {"rooms": {"empty": "constant", "constant": "many"}},
            "The constant for rooms must be a number, not 'many'",
        ),
        (
            {"rooms": {"empty": "constant", "constant": "inf"}},
            "The constant for rooms must be a finite number",
        ),
        ({"wings": {"empty": "zero"}}, "Cleaning given for wings, which is not a feature"),
    ],
)
def test_choices_a_kind_does_not_take_are_refused(given, message):
    with pytest.raises(ValueError, match=message):
        feature_plans([ROOMS, CITY], given)


def test_the_transformer_takes_empty_cells_and_unseen_categories():
    frame = houses()
    plans = feature_plans([ROOMS, CITY, GARDEN, BUILT], {"rooms": {"empty": "constant", "constant": "-1"}})
    transformer = cleaning_transformer(plans, scaled=False, drop_first=False).fit(frame)
    odd = pd.DataFrame([{"rooms": None, "city": "Dover", "garden": None, "built": None}])
    values = transformer.transform(odd)
    assert not np.isnan(values).any()
    assert values[0, 0] == -1  # the constant stands in for the empty rooms
    city_columns = [name for name in transformer.get_feature_names_out() if name.startswith("city_")]
    assert len(city_columns) == 3  # one per city seen; an unseen city sets none of them
    assert values[0, 1:4].sum() == 0


def test_drop_first_leaves_one_column_out_per_category():
    plans = feature_plans([CITY])
    with_all = cleaning_transformer(plans, scaled=False, drop_first=False).fit(houses())
    without_first = cleaning_transformer(plans, scaled=False, drop_first=True).fit(houses())
    assert len(with_all.get_feature_names_out()) - len(without_first.get_feature_names_out()) == 1


def test_times_become_numeric_parts():
    parts = datetime_parts(pd.DataFrame({"t": [pd.Timestamp("2024-02-29 13:00", tz="UTC"), None]}))
    assert parts[0].tolist() == [2024, 2, 3, 13, 19782.541666666668]  # a Thursday
    assert np.isnan(parts[1]).all()


def test_drop_leaves_the_training_rows_out_and_counts_them():
    frame = houses()
    plans = feature_plans([ROOMS, CITY], {"city": {"empty": "drop"}})
    assert rows_to_drop(frame, plans).sum() == frame["city"].isna().sum()
    result = fit_and_score(
        frame,
        columns=COLUMNS,
        target="price",
        features=["rooms", "city"],
        random_state=0,
        cleaning={"city": {"empty": "drop"}},
    )
    left_out = result.metrics["left_out"]
    assert left_out["target_empty"] == frame["price"].isna().sum()
    assert left_out["feature_empty"] == (frame["city"].isna() & frame["price"].notna()).sum()
    assert result.n_train + result.n_test == len(frame) - sum(left_out.values())
    inputs = {column.name: column for column in result.inputs}
    assert inputs["rooms"].nullable and not inputs["city"].nullable  # a dropped feature must be given


def test_a_regression_on_raw_rows_scores_far_above_its_baseline_and_says_how():
    result = fit_and_score(houses(), columns=COLUMNS, target="price", random_state=0)
    assert result.task == "regression" and result.algorithm == "linear_regression"
    assert result.features == ["rooms", "city", "garden", "built"]
    metrics = result.metrics
    assert metrics["r2"] > 0.8 and metrics["baseline"]["r2"] < 0.01
    assert metrics["rmse"] < metrics["baseline"]["rmse"] and metrics["mae"] < metrics["baseline"]["mae"]
    assert metrics["interval"]["low"] < 0 < metrics["interval"]["high"]
    assert len(metrics["points"]["actual"]) == result.n_test
    assert "split into year, month" in result.cleaning["features"]["built"]["steps"]
    raw = pd.DataFrame([{"rooms": None, "city": None, "garden": None, "built": None}])
    assert np.isfinite(result.pipeline.predict(raw)).all()
