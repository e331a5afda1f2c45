"""A stored blob that fails its sha256 or its signature is never unpickled: every path answers 503.

The faults are written straight into the row, as someone with write access to
the database (or a disk going bad) would leave them.
"""

import hashlib
import importlib
import io
import time
from io import StringIO

import joblib
import pandas as pd
import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.urls import reverse
from sklearn.dummy import DummyClassifier

from ml.models import ModelVersion
from ml.services import machine_for, model_version_train
from ml.signing import DETECTOR, blob_signature

pytestmark = pytest.mark.django_db
MONSTER = {"level": 8, "health": 31.6, "energy": 32.9, "sanity": 32.0}
API_PATHS = [
    ("post", "/api/predict"),
    ("post", "/api/models/1/predict"),
    ("get", "/api/health"),
    ("get", "/api/models/1/health"),
]


def flipped(blob) -> bytes:
    """The same bytes with one in the middle flipped: a disk or a hand gone wrong."""
    changed = bytearray(blob)
    changed[len(changed) // 2] ^= 0xFF
    return bytes(changed)


def forged_pipeline() -> bytes:
    """A different, perfectly valid joblib file: a pipeline that calls every monster Rank 5."""
    rows = pd.DataFrame([MONSTER, {**MONSTER, "level": 1}])
    pipeline = DummyClassifier(strategy="constant", constant="Rank 5").fit(rows, ["Rank 5", "Rank 0"])
    buffer = io.BytesIO()
    joblib.dump(pipeline, buffer)
    return buffer.getvalue()


def break_pipeline(version):
    ModelVersion.objects.filter(pk=version.pk).update(artifact=flipped(version.artifact))


def break_detector(version):
    ModelVersion.objects.filter(pk=version.pk).update(detector=flipped(version.detector))


def forge_pipeline(version):
    """The forger writes the pipeline and its correct sha256 into the row."""
    forged = forged_pipeline()
    ModelVersion.objects.filter(pk=version.pk).update(
        artifact=forged, sha256=hashlib.sha256(forged).hexdigest()
    )


def strip_signatures(version):
    ModelVersion.objects.filter(pk=version.pk).update(artifact_signature="", detector_signature="")


def sign_a_broken_detector(version):
    """Broken before it was signed (say, by an operator re-signing a damaged row)."""
    broken = flipped(version.detector)
    signature = blob_signature(broken, kind=DETECTOR, version=version.version)
    ModelVersion.objects.filter(pk=version.pk).update(detector=broken, detector_signature=signature)


FAULTS = {
    "a flipped byte in the pipeline": break_pipeline,
    "a flipped byte in the detector": break_detector,
    "a forged pipeline with its sha256": forge_pipeline,
    "no signatures": strip_signatures,
    "a detector broken before it was signed": sign_a_broken_detector,
}


def ask(client, method: str, path: str):
    if method == "post":
        return client.post(path, MONSTER, content_type="application/json")
    return client.get(path)


def assert_refused_everywhere(client) -> str:
    """Every prediction path answers the same 503 quickly; the message they give."""
    messages = set()
    for method, path in API_PATHS:
        started = time.perf_counter()
        response = ask(client, method, path)
        assert time.perf_counter() - started < 5, f"{path} took too long"
        assert response.status_code == 503, (path, response.content)
        assert response["Content-Type"].startswith("application/json")
        messages.add(response.json()["message"])
    assert len(messages) == 1, messages
    message = messages.pop()
    page = client.get(reverse("ml:predict"), MONSTER)
    assert page.status_code == 503
    assert message.replace("'", "&#x27;") in page.content.decode()
    return message


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
def test_a_faulty_blob_is_refused_on_every_path(client, trained_version, fault):
    fault(trained_version)
    message = assert_refused_everywhere(client)
    assert message.startswith("Model v1's stored ")


def test_the_messages_say_which_check_failed(client, trained_version):
    break_detector(trained_version)
    unsigned = "Model v1's stored in-distribution check is not signed with this server's MODEL_SIGNING_KEY."
    assert client.get("/api/health").json() == {"message": unsigned}
    break_pipeline(trained_version)
    assert client.get("/api/health").json() == {
        "message": "Model v1's stored pipeline does not match its sha256."
    }


def test_a_forged_pipeline_is_never_unpickled(client, trained_version, monkeypatch):
    forge_pipeline(trained_version)
    loads = []
    monkeypatch.setattr("ml.services.joblib.load", lambda file: loads.append(file))
    assert client.post("/api/predict", MONSTER, content_type="application/json").status_code == 503
    assert loads == []


def test_a_forged_pipeline_is_not_downloaded(client, trained_version, django_user_model):
    forge_pipeline(trained_version)
    client.force_login(django_user_model.objects.create_user("member", password="pw-for-tests-1"))
    for url in (reverse("ml:download"), reverse("ml:download-version", args=[1])):
        response = client.get(url)
        assert response.status_code == 503
        assert "not signed with this server's MODEL_SIGNING_KEY" in response.content.decode()


def test_a_signed_download_keeps_its_sha256_header(client, trained_version, django_user_model):
    client.force_login(django_user_model.objects.create_user("member", password="pw-for-tests-1"))
    response = client.get(reverse("ml:download"))
    assert response.status_code == 200
    assert response["X-Model-SHA256"] == hashlib.sha256(b"".join(response.streaming_content)).hexdigest()


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
def test_a_new_version_replaces_a_faulty_active_one(trained_version, fault):
    """ "Activate if better": a version that cannot answer is beaten by one that can."""
    fault(trained_version)
    replacement = model_version_train(seed=2)
    assert replacement.is_active
    assert ModelVersion.objects.get(is_active=True) == replacement


def test_training_signs_both_blobs(trained_version):
    assert len(trained_version.artifact_signature) == 64 and len(trained_version.detector_signature) == 64
    assert trained_version.artifact_signature != trained_version.detector_signature


def test_a_version_without_a_detector_has_no_detector_signature(seeded_monsters):
    version = model_version_train(features=["type"], seed=1)
    assert version.detector is None and version.detector_signature == ""
    assert machine_for(version).detector is None


def test_a_signature_made_with_another_key_is_refused(client, trained_version, settings):
    settings.MODEL_SIGNING_KEY = "a key this server never had"
    assert_refused_everywhere(client)


def test_after_a_key_change_the_command_signs_the_versions_again(client, trained_version, settings):
    other = model_version_train(seed=2, activate=False)
    settings.MODEL_SIGNING_KEY = "the new key"
    out = StringIO()
    call_command("sign_model_versions", stdout=out)
    assert "Signed v1, v2." in out.getvalue()
    assert client.get("/api/health").status_code == 200
    assert client.get(f"/api/models/{other.version}/health").status_code == 200
    out = StringIO()
    call_command("sign_model_versions", stdout=out)
    assert "No version needed a new signature." in out.getvalue()


def test_the_command_signs_only_the_versions_asked_for(trained_version, settings):
    other = model_version_train(seed=2, activate=False)
    settings.MODEL_SIGNING_KEY = "the new key"
    call_command("sign_model_versions", "2", stdout=StringIO())
    assert machine_for(other).version == 2
    with pytest.raises(Exception, match="not signed with this server's MODEL_SIGNING_KEY"):
        machine_for(trained_version)
    with pytest.raises(CommandError, match="No model version 7; nothing signed."):
        call_command("sign_model_versions", "7", stdout=StringIO())


@pytest.mark.parametrize(
    ("fault", "blob"), [(forge_pipeline, "pipeline"), (break_detector, "in-distribution check")]
)
def test_with_the_previous_key_a_blob_it_did_not_sign_stays_refused(
    client, trained_version, settings, fault, blob
):
    """A row forged (or broken) before the key changed is not laundered by re-signing."""
    other = model_version_train(seed=2, activate=False)
    fault(other)
    settings.MODEL_SIGNING_PREVIOUS_KEY = settings.MODEL_SIGNING_KEY
    settings.MODEL_SIGNING_KEY = "the new key"
    refused = f"Not signed: Model v2's stored {blob} is signed with neither the current nor the previous key."
    with pytest.raises(CommandError, match=refused):
        call_command("sign_model_versions", stdout=StringIO())
    assert client.get("/api/health").status_code == 200  # v1, signed with the previous key, is signed again
    assert client.get("/api/models/2/health").status_code == 503


def test_the_command_never_signs_a_pipeline_that_fails_its_sha256(client, trained_version, settings):
    break_pipeline(trained_version)
    settings.MODEL_SIGNING_KEY = "the new key"
    with pytest.raises(
        CommandError, match="Not signed: Model v1's stored pipeline does not match its sha256."
    ):
        call_command("sign_model_versions", stdout=StringIO())
    assert client.get("/api/health").status_code == 503


def test_the_migration_signs_the_versions_trained_before_signatures(client, trained_version):
    strip_signatures(trained_version)
    broken = model_version_train(seed=2, activate=False)
    ModelVersion.objects.filter(pk=broken.pk).update(artifact=flipped(broken.artifact), artifact_signature="")
    migration = importlib.import_module("ml.migrations.0004_signed_blobs")
    migration.sign_existing_versions(apps, schema_editor=None)
    assert client.get("/api/health").status_code == 200
    assert ModelVersion.objects.get(pk=broken.pk).artifact_signature == ""
