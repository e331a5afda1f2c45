from __future__ import annotations

import io
import time

import sklearn
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from analytics.charts import as_dict
from bandersnatch.access import staff_required
from bandersnatch.jobs import job_follow, job_start
from bandersnatch.models import Job
from monsters.columns import NUMBERS

from . import charts, tasks
from .forms import PredictionForm, TrainForm
from .models import ModelVersion, PredictionLog, Promotion
from .services import (
    ArtifactTampered,
    NoActiveModelVersion,
    active_version,
    data_changes_since,
    machine_for,
    model_card,
    model_version_activate,
    model_version_artifact,
    model_version_rollback,
    prediction_monitoring,
    predictions_log,
    rarity_predict,
)

WHAT_IF_FIELDS = NUMBERS
ALGORITHM_LABELS = {name: label for name, label in ModelVersion._meta.get_field("algorithm").choices}


def _card(version: ModelVersion, *, id_suffix: str = "") -> dict:
    """The model card's figures and facts for `version`; `id_suffix` keeps ids unique on a page of cards."""
    metrics = version.metrics
    return {
        "version": version,
        "changes": data_changes_since(version),
        "sklearn_now": sklearn.__version__,
        "figures": {
            f"figure-confusion{id_suffix}": as_dict(
                charts.confusion_figure(metrics["classes"], metrics["confusion_matrix"])
            ),
            f"figure-importance{id_suffix}": as_dict(charts.importance_figure(metrics["feature_importance"])),
            f"figure-reliability{id_suffix}": as_dict(charts.reliability_figure(metrics["calibration"])),
        },
    }


@require_GET
def predict(request: HttpRequest) -> HttpResponse:
    try:
        version = active_version()
        machine = machine_for(version)
    except NoActiveModelVersion:
        return render(request, "ml/predict.html", {"no_model": True})
    except ArtifactTampered as exc:
        return render(request, "ml/predict.html", {"version": version, "tampered": str(exc)}, status=503)
    asked = any(name in request.GET for name in machine.features)
    if asked:
        form = PredictionForm(request.GET, features=machine.features)
    else:
        form = PredictionForm(initial=PredictionForm.random_initial(), features=machine.features)
    context = {"form": form, **_card(version)}
    if asked and not form.is_valid():
        return render(request, "ml/predict.html", context, status=400)
    stats = form.cleaned_data if asked else {name: form.initial[name] for name in machine.features}
    started = time.perf_counter()
    answer = rarity_predict([stats], machine=machine)[0]
    if asked:  # what people ask is logged; the random monster shown on arrival is not
        latency_ms = (time.perf_counter() - started) * 1000
        predictions_log(
            records=[stats], answers=[answer], source=PredictionLog.Source.PAGE, latency_ms=latency_ms
        )
    context["figures"]["figure-probabilities"] = as_dict(charts.probability_figure(answer["probabilities"]))
    what_if_fields = [field for field in WHAT_IF_FIELDS if field in machine.features]
    vary = request.GET.get("vary", "level")
    if what_if_fields:
        vary = vary if vary in what_if_fields else what_if_fields[0]
        curve = machine.what_if(stats, vary, _what_if_values(vary, stats))
        context["figures"]["figure-what-if"] = as_dict(charts.what_if_figure(curve, vary, stats[vary]))
    context.update(
        answer=answer,
        confidence=f"{answer['confidence']:.1%}",
        stats=stats,
        vary=vary,
        what_if_fields=what_if_fields,
        # Where a monster of this level keeps its resources (rank 0 to rank 5).
        typical=(2 * stats["level"] - 1, 12 * stats["level"] + 6) if "level" in stats else None,
    )
    return render(request, "ml/predict.html", context)


def _what_if_values(field: str, stats: dict) -> list:
    if field == "level":
        return list(range(1, 21))
    top = max(260.0, float(stats[field]) * 1.2)
    return [round(top * i / 100, 2) for i in range(101)]


@staff_required
@require_GET
def monitoring(request: HttpRequest) -> HttpResponse:
    summary = prediction_monitoring(days=30)
    figures = {
        "figure-per-day": as_dict(charts.predictions_per_day_figure(summary["per_day"])),
        "figure-class-mix": as_dict(charts.class_mix_figure(summary["predicted"], summary["training"])),
    }
    total = sum(row["count"] for row in summary["per_day"])
    return render(request, "ml/monitoring.html", {**summary, "figures": figures, "total": total})


@require_GET
def version_list(request: HttpRequest) -> HttpResponse:
    versions = ModelVersion.objects.without_blobs().select_related("created_by")
    history = Promotion.objects.select_related("version", "previous", "activated_by").defer(
        "version__artifact", "version__detector", "previous__artifact", "previous__detector"
    )[:20]
    return render(request, "ml/versions.html", {"versions": versions, "history": history})


@require_GET
def version_detail(request: HttpRequest, number: int) -> HttpResponse:
    version = get_object_or_404(
        ModelVersion.objects.without_blobs().select_related("created_by"), version=number
    )
    return render(request, "ml/version.html", _card(version))


@require_GET
def version_compare(request: HttpRequest) -> HttpResponse:
    numbers = []
    for key in ("a", "b"):
        value = request.GET.get(key, "")
        if not value.isascii() or not value.isdigit():
            return render(
                request, "ml/compare.html", {"error": "Choose two versions to compare (a and b)."}, status=400
            )
        numbers.append(int(value))
    versions = {v.version: v for v in ModelVersion.objects.without_blobs().filter(version__in=numbers)}
    missing = [n for n in numbers if n not in versions]
    if missing:
        raise Http404(f"No model version {missing[0]}.")
    cards = [_card(versions[n], id_suffix=f"-{key}") for n, key in zip(numbers, "ab", strict=True)]
    return render(
        request,
        "ml/compare.html",
        {"cards": cards, "rows": _comparison_rows(*[versions[n] for n in numbers])},
    )


def _comparison_rows(a: ModelVersion, b: ModelVersion) -> list[tuple[str, str, str]]:
    def percent(value):
        return f"{value:.2%}"

    rows = [
        ("Algorithm", a.get_algorithm_display(), b.get_algorithm_display()),
        ("Features", ", ".join(a.features), ", ".join(b.features)),
        ("Target", a.target, b.target),
        ("Training rows", f"{a.n_train:,}", f"{b.n_train:,}"),
        ("Test rows", f"{a.n_test:,}", f"{b.n_test:,}"),
        ("Accuracy", percent(a.metrics["accuracy"]), percent(b.metrics["accuracy"])),
        ("Macro F1", f"{a.metrics['macro_f1']:.4f}", f"{b.metrics['macro_f1']:.4f}"),
        ("Log loss", f"{a.metrics['log_loss']:.4f}", f"{b.metrics['log_loss']:.4f}"),
        (
            "Calibration error",
            f"{a.metrics['calibration']['ece']:.4f}",
            f"{b.metrics['calibration']['ece']:.4f}",
        ),
        ("Training time", f"{a.training_seconds:.1f} s", f"{b.training_seconds:.1f} s"),
        ("scikit-learn", a.sklearn_version, b.sklearn_version),
        ("Trained", f"{a.created_at:%Y-%m-%d %H:%M}", f"{b.created_at:%Y-%m-%d %H:%M}"),
    ]
    for name in sorted(a.params.keys() | b.params.keys()):
        rows.append((f"param {name}", str(a.params.get(name, "—")), str(b.params.get(name, "—"))))
    return rows


# Staff: train, activate, roll back -------------------------------------------------


@staff_required
@require_http_methods(["GET", "POST"])
def train(request: HttpRequest) -> HttpResponse:
    """Choose what to train; it runs as a background job and lands in the version list."""
    form = TrainForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        options = form.training_options()
        summary = (
            f"Train {ALGORITHM_LABELS[options['algorithm']].lower()} on "
            f"{', '.join(options['features'])} to predict {options['target']}"
        )
        job = job_start(
            tasks.train,
            kind=Job.Kind.TRAIN,
            summary=summary,
            actor=request.user,
            actor_id=request.user.pk,
            **options,
        )
        job_follow(request, job)
        return redirect(job)
    status = 400 if request.method == "POST" else 200
    groups = [(name, label, form.param_fields(name)) for name, label in ALGORITHM_LABELS.items()]
    return render(request, "ml/train.html", {"form": form, "param_groups": groups}, status=status)


@staff_required
@require_POST
def activate(request: HttpRequest, number: int) -> HttpResponse:
    version = get_object_or_404(ModelVersion.objects.without_blobs(), version=number)
    model_version_activate(version=version, actor=request.user)
    messages.success(request, f"Model v{number} is now the active version.")
    return redirect("ml:versions")


@staff_required
@require_POST
def rollback(request: HttpRequest) -> HttpResponse:
    try:
        version = model_version_rollback(actor=request.user)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, f"Rolled back: model v{version.version} is active again.")
    return redirect("ml:versions")


# Signed in: downloads ------------------------------------------------------------


@login_required
@require_GET
def download(request: HttpRequest, number: int | None = None) -> HttpResponse:
    """The version's fitted pipeline as a joblib file, its sha256 in a header, its card linked.

    Only after its sha256 and signature check out: a forged pipeline is never handed out.
    """
    versions = ModelVersion.objects.all()
    version = (
        get_object_or_404(versions, version=number)
        if number is not None
        else versions.filter(is_active=True).first()
    )
    if version is None:
        raise Http404("No model is active yet.")
    try:
        artifact = model_version_artifact(version)
    except ArtifactTampered as exc:
        return HttpResponse(str(exc), status=503, content_type="text/plain")
    response = FileResponse(
        io.BytesIO(artifact), as_attachment=True, filename=f"bandersnatch-model-v{version.version}.joblib"
    )
    response["X-Model-SHA256"] = version.sha256
    response["X-Model-Version"] = str(version.version)
    response["Link"] = f'<{reverse("ml:card", args=[version.version])}>; rel="describedby"'
    return response


@login_required
@require_GET
def card(request: HttpRequest, number: int) -> JsonResponse:
    """The model card: what a downloaded pipeline needs, takes and scored."""
    version = get_object_or_404(ModelVersion.objects.without_blobs(), version=number)
    return JsonResponse(model_card(version), json_dumps_params={"indent": 2})
