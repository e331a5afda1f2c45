import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from ml.machine import Machine
from monsters.generator import generate_monsters


@pytest.fixture(scope="module")
def machine() -> Machine:
    return Machine.from_frame(generate_monsters(1_000, rng=np.random.default_rng(5)), random_state=0)


def test_called_on_features_it_gives_prediction_and_confidence(machine):
    prediction, confidence = machine(
        pd.DataFrame({"level": [8], "health": [31.6], "energy": [32.9], "sanity": [32.0]})
    )
    assert prediction == "Rank 1"
    assert 0.5 < confidence <= 1.0


def test_info_names_the_base_model_version_and_time(machine):
    info = machine.info()
    assert info.startswith("Base model: LogisticRegression, unregistered, trained ")


def test_save_and_open_round_trip(machine, tmp_path):
    path = tmp_path / "machine.joblib"
    machine.save(path)
    opened = Machine.open(path)
    rows = generate_monsters(50, rng=np.random.default_rng(6))
    assert np.array_equal(opened.probabilities(rows), machine.probabilities(rows))
    assert opened.info() == machine.info()


def test_open_refuses_other_objects(tmp_path):
    import joblib

    joblib.dump({"not": "a machine"}, tmp_path / "other.joblib")
    with pytest.raises(TypeError, match="does not hold a Machine"):
        Machine.open(tmp_path / "other.joblib")


def test_what_if_varies_one_field(machine):
    curve = machine.what_if(
        {"level": 5, "health": 30.0, "energy": 31.0, "sanity": 29.0}, "level", range(1, 21)
    )
    assert list(curve.index) == list(range(1, 21))
    assert list(curve.columns) == machine.classes
    assert np.allclose(curve.sum(axis=1), 1.0)
    assert curve.loc[1].idxmax() != curve.loc[20].idxmax()  # same resources: rarer at low level


def test_the_pipeline_loads_without_this_project(machine, tmp_path):
    """Only scikit-learn, pandas and joblib are needed to use a saved pipeline."""
    import joblib

    joblib.dump(machine.pipeline, tmp_path / "pipeline.joblib")
    code = "\n".join(
        [
            "import joblib, pandas as pd, sys",
            "p = joblib.load('pipeline.joblib')",
            "row = pd.DataFrame({'level': [8], 'health': [31.6], 'energy': [32.9], 'sanity': [32.0]})",
            "print(p.predict(row)[0])",
            "assert not any(m.split('.')[0] in ('ml', 'monsters', 'django') for m in sys.modules)",
        ]
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Rank 1"
