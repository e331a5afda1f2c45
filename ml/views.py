from __future__ import annotations

import io
import time

import sklearn
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from analytics.charts import as_dict
from analytics.filters import rows_between
from analytics.models import Dataset
from analytics.profile import dataset_profile
from analytics.table import dataset_random_row
from bandersnatch.access import login_or_token_required, staff_required
from bandersnatch.columns import format_percent
from bandersnatch.jobs import job_follow, job_start
from bandersnatch.models import Job
from monsters.services import monsters_dataset

from . import charts, tasks
from .algorithms import param_label
from .feedback import (
    PredictionNotFound,
    feedback_rows_add,
    feedback_rows_pending,
    feedback_summary,
    prediction_feedback,
)
from .forms import FeedbackForm, TrainForm, prediction_form, train_initial
from .models import ModelVersion, PredictionLog, Promotion
from .monster_features import DEFAULT_TARGET
from .scoring import HEADLINE, LOWER_IS_BETTER
from .services import (
    MONSTERS,
    ArtifactTampered,
    data_changes_since,
    default_target,
    machine_for,
    model_card,
    model_version_activate,
    model_version_artifact,
    model_version_rollback,
    prediction_monitoring,
    predictions_log,
    records_predict,
    training_options_of,
)

ALGORITHM_LABELS = {name: label for name, label in ModelVersion._meta.get_field("algorithm").choices}
WHAT_IF_POINTS = 101


def visible_versions(user):
    """The versions `user` may see: those of the datasets they may see."""
    return ModelVersion.objects.without_blobs().filter(dataset__in=Dataset.objects.visible_to(user))


def can_train(user, dataset: Dataset) -> bool:
    """Who edits a dataset (Dataset.editable_by: its owner, staff) trains, activates and rolls back
    its models; staff those of the built-in monsters too."""
    return bool(user.is_staff or dataset.editable_by(user))


def _card(version: ModelVersion, *, id_suffix: str = "") -> dict:
    """The model card's figures and facts for `version`; `id_suffix` keeps ids unique on a page of cards."""
    metrics = version.metrics
    if version.is_regression:
        figures = {
            f"figure-actual{id_suffix}": as_dict(
                charts.actual_predicted_figure(metrics["points"], version.target)
            ),
            f"figure-residuals{id_suffix}": as_dict(
                charts.residual_figure(metrics["points"], version.target)
            ),
            f"figure-importance{id_suffix}": as_dict(
                charts.importance_figure(metrics["feature_importance"], "R²")
            ),
        }
    else:
        figures = {
            f"figure-confusion{id_suffix}": as_dict(
                charts.confusion_figure(metrics["classes"], metrics["confusion_matrix"])
            ),
            f"figure-importance{id_suffix}": as_dict(charts.importance_figure(metrics["feature_importance"])),
            f"figure-reliability{id_suffix}": as_dict(charts.reliability_figure(metrics["calibration"])),
        }
    return {
        "version": version,
        "changes": data_changes_since(version),
        "sklearn_now": sklearn.__version__,
        "figures": figures,
        "figure_ids": list(figures),
        "cleaning_steps": list(version.cleaning.get("features", {}).items()),
        "settings": [(param_label(version.algorithm, name), value) for name, value in version.params.items()],
    }


@require_GET
def predict(request: HttpRequest) -> HttpResponse:
    return _predict_page(request, monsters_dataset())


@require_GET
def dataset_predict(request: HttpRequest, slug: str) -> HttpResponse:
    return _predict_page(request, get_object_or_404(Dataset.objects.visible_to(request.user), slug=slug))


def _chosen_version(request: HttpRequest, dataset: Dataset) -> tuple[ModelVersion | None, str]:
    """The version asked for (?version=N of this dataset), else the active one of ?target= (or the
    dataset's default target); and the target."""
    target = request.GET.get("target") or default_target(dataset)
    versions = ModelVersion.objects.without_blobs().filter(dataset=dataset).select_related("dataset")
    number = request.GET.get("version", "")
    if number.isascii() and number.isdigit():
        version = versions.filter(version=int(number)).first()
        if version is None:
            raise Http404(f"No model version {number} of {dataset.name}.")
        return version, version.target
    return versions.filter(target=target, is_active=True).first(), target


def _predict_page(request: HttpRequest, dataset: Dataset) -> HttpResponse:
    version, target = _chosen_version(request, dataset)
    context = {
        "dataset": dataset,
        "target": target,
        "is_monsters": dataset.is_builtin,
        "can_train": request.user.is_authenticated and can_train(request.user, dataset),
        "choices": ModelVersion.objects.without_blobs()
        .filter(dataset=dataset)
        .order_by("target", "-version"),
    }
    if version is None:
        return render(request, "ml/predict.html", {**context, "no_model": True})
    try:
        machine = machine_for(version)
    except ArtifactTampered as exc:
        return render(
            request, "ml/predict.html", {**context, "version": version, "tampered": str(exc)}, status=503
        )
    columns = version.input_columns
    form_class = prediction_form(columns)
    asked = any(column.name in request.GET for column in columns)
    if asked:
        form = form_class(request.GET)
    else:
        form = form_class(initial=dataset_random_row(dataset, machine.features))
    for name, (low, high) in version.metrics.get("ranges", {}).items():
        if name in form.fields:
            form.fields[name].help_text = f"trained on {_shown(low)} to {_shown(high)}"
    context.update(form=form, **_card(version))
    if asked and not form.is_valid():
        return render(request, "ml/predict.html", context, status=400)
    stats = form.cleaned_data if asked else {name: form.initial.get(name) for name in machine.features}
    started = time.perf_counter()
    answer = records_predict([stats], machine=machine)[0]
    if asked:  # what people ask is logged; the random row shown on arrival is not
        latency_ms = (time.perf_counter() - started) * 1000
        predictions_log(
            records=[stats], answers=[answer], source=PredictionLog.Source.PAGE, latency_ms=latency_ms
        )
    if not machine.is_regression:
        context["figures"]["figure-probabilities"] = as_dict(
            charts.probability_figure(answer["probabilities"])
        )
    what_if = {c.name: c for c in columns if c.is_numeric and stats.get(c.name) is not None}
    vary = request.GET.get("vary", "level")
    if what_if:
        vary = vary if vary in what_if else next(iter(what_if))
        varied = what_if[vary]
        curve = machine.what_if(stats, vary, _what_if_values(varied, stats[vary], version.metrics))
        figure = (
            charts.value_what_if_figure(curve, varied.label, stats[vary], version.target)
            if machine.is_regression
            else charts.what_if_figure(curve, varied.label, stats[vary])
        )
        context["figures"]["figure-what-if"] = as_dict(figure)
    context.update(
        answer=answer,
        confidence=format_percent(answer["confidence"]) if "confidence" in answer else "",
        stats=stats,
        vary=vary,
        what_if_fields=[(name, column.label) for name, column in what_if.items()],
        # Where a monster of this level keeps its resources (rank 0 to rank 5).
        typical=(2 * stats["level"] - 1, 12 * stats["level"] + 6)
        if dataset.is_builtin and stats.get("level") is not None
        else None,
    )
    return render(request, "ml/predict.html", context)


def _shown(value) -> str:
    """A training range's end as people read it: times (ISO text) to the minute."""
    return value[:16].replace("T", " ") if isinstance(value, str) else f"{value:g}"


def _what_if_values(column, value, metrics: dict) -> list:
    """The values the what-if curve takes: the training range, widened to hold `value`."""
    low, high = metrics.get("ranges", {}).get(column.name, (0, max(2 * float(value), 1.0)))
    low, high = min(low, value), max(high, value)
    if column.kind == "integer" and high - low <= 200:
        return list(range(int(low), int(high) + 1))
    return [round(low + (high - low) * i / (WHAT_IF_POINTS - 1), 4) for i in range(WHAT_IF_POINTS)]


@login_required
@require_GET
def monitoring(request: HttpRequest) -> HttpResponse:
    """A group's predictions and feedback (?dataset=, ?target=; default the monsters' rarity): staff and
    the dataset's owner."""
    dataset = get_object_or_404(
        Dataset.objects.visible_to(request.user), slug=request.GET.get("dataset") or MONSTERS
    )
    if not can_train(request.user, dataset):
        raise PermissionDenied("Only the dataset's owner and staff watch its models.")
    target = request.GET.get("target") or default_target(dataset)
    summary = prediction_monitoring(days=30, slug=dataset.slug, target=target)
    figures = {"figure-per-day": as_dict(charts.predictions_per_day_figure(summary["per_day"]))}
    if summary["training"]:
        figures["figure-class-mix"] = as_dict(
            charts.class_mix_figure(summary["predicted"], summary["training"])
        )
    total = sum(row["count"] for row in summary["per_day"])
    versions = ModelVersion.objects.without_blobs().filter(dataset=dataset, target=target)
    context = {
        **summary,
        "figures": figures,
        "total": total,
        "dataset": dataset,
        "target": target,
        "feedback": feedback_summary(versions),
        "pending": 0 if dataset.is_builtin else feedback_rows_pending(dataset).count(),
    }
    return render(request, "ml/monitoring.html", context)


@login_required
@require_POST
def feedback_page(request: HttpRequest, prediction_id) -> HttpResponse:
    """What a signed-in user says of a prediction on its page; back to the page after."""
    form = FeedbackForm(request.POST)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("ml:predict")
    if not form.is_valid():
        messages.error(request, "Say whether the prediction was right, or give the true value.")
        return redirect(back)
    try:
        prediction_feedback(prediction_id=str(prediction_id), user=request.user, **form.cleaned_data)
    except PredictionNotFound as exc:
        raise Http404(str(exc)) from None
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, "Thank you: your feedback is stored with the prediction.")
    return redirect(back)


@login_required
@require_POST
def feedback_rows(request: HttpRequest, slug: str) -> HttpResponse:
    """The owner (or staff) adds the feedback's true values to the dataset as labelled rows."""
    dataset = get_object_or_404(Dataset.objects.visible_to(request.user), slug=slug)
    if not can_train(request.user, dataset):
        raise PermissionDenied("Only the dataset's owner and staff add rows to it.")
    rows = feedback_rows_add(dataset=dataset, actor=request.user)
    note = f" {rows.skipped:,} did not fit the table's columns and wait." if rows.skipped else ""
    if not rows.added:
        messages.warning(request, f"No feedback rows were added to {dataset.name}.{note}")
        return redirect(f"{reverse('ml:monitoring')}?dataset={dataset.slug}")
    added = f"{rows.added:,} labelled row{'s' if rows.added != 1 else ''}"
    messages.success(request, f"Added {added} to {dataset.name}, shown below.{note}")
    return redirect(f"{dataset.get_absolute_url()}?{rows_between(rows.first_id, rows.last_id)}")


@require_GET
def version_list(request: HttpRequest) -> HttpResponse:
    """Every version the visitor may see, by dataset and target (?dataset= and ?target= narrow it)."""
    versions = visible_versions(request.user).select_related("created_by", "dataset")
    if request.GET.get("dataset"):
        versions = versions.filter(dataset__slug=request.GET["dataset"])
    if request.GET.get("target"):
        versions = versions.filter(target=request.GET["target"])
    versions = versions.order_by("dataset__name", "target", "-version")
    history = (
        Promotion.objects.filter(version__in=versions.values("pk"))
        .select_related("version", "version__dataset", "previous", "activated_by")
        .defer("version__artifact", "version__detector", "previous__artifact", "previous__detector")[:20]
    )
    trainable = {
        v.dataset_id for v in versions if request.user.is_authenticated and can_train(request.user, v.dataset)
    }
    groups = []
    for version in versions:
        if not groups or (groups[-1]["dataset"], groups[-1]["target"]) != (version.dataset, version.target):
            groups.append(
                {
                    "dataset": version.dataset,
                    "target": version.target,
                    "versions": [],
                    "can_train": version.dataset_id in trainable,
                }
            )
        groups[-1]["versions"].append(version)
    return render(request, "ml/versions.html", {"versions": versions, "groups": groups, "history": history})


@require_GET
def version_detail(request: HttpRequest, number: int) -> HttpResponse:
    version = get_object_or_404(
        visible_versions(request.user).select_related("created_by", "dataset"), version=number
    )
    can = request.user.is_authenticated and can_train(request.user, version.dataset)
    return render(request, "ml/version.html", {**_card(version), "can_train": can})


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
    versions = {
        v.version: v
        for v in visible_versions(request.user).select_related("dataset").filter(version__in=numbers)
    }
    missing = [n for n in numbers if n not in versions]
    if missing:
        raise Http404(f"No model version {missing[0]}.")
    a, b = versions[numbers[0]], versions[numbers[1]]
    if (a.dataset_id, a.target) != (b.dataset_id, b.target):
        error = (
            f"v{a.version} and v{b.version} predict different things; "
            "compare versions of one dataset and target."
        )
        return render(request, "ml/compare.html", {"error": error}, status=400)
    cards = [_card(versions[n], id_suffix=f"-{key}") for n, key in zip(numbers, "ab", strict=True)]
    headline = HEADLINE[a.task]
    group = ModelVersion.objects.without_blobs().of_group(a.dataset_id, a.target).filter(task=a.task)
    history = [
        (v.version, v.metrics.get(headline), v.metrics.get("baseline", {}).get(headline))
        for v in group.order_by("version")
    ]
    over_versions = as_dict(
        charts.metric_over_versions_figure(history, METRIC_LABELS[headline], set(numbers))
    )
    return render(
        request,
        "ml/compare.html",
        {"cards": cards, "rows": _comparison_rows(a, b), "over_versions": over_versions},
    )


METRIC_LABELS = {
    "accuracy": "Accuracy",
    "macro_f1": "Macro F1",
    "log_loss": "Log loss",
    "r2": "R²",
    "mae": "MAE",
    "rmse": "RMSE",
}


def _comparison_rows(a: ModelVersion, b: ModelVersion) -> list[tuple[str, str, str, str]]:
    """(label, a's value, b's value, which is better: "a", "b" or "") per fact, parameters in name order."""
    names = ("r2", "mae", "rmse") if a.is_regression else ("accuracy", "macro_f1", "log_loss")
    rows = [
        ("Algorithm", a.get_algorithm_display(), b.get_algorithm_display(), ""),
        ("Features", ", ".join(a.features), ", ".join(b.features), ""),
        ("Training rows", f"{a.n_train:,}", f"{b.n_train:,}", ""),
        ("Test rows", f"{a.n_test:,}", f"{b.n_test:,}", ""),
    ]
    for name in names:
        x, y = a.metrics.get(name), b.metrics.get(name)
        rows.append((METRIC_LABELS[name], _figure(x, name), _figure(y, name), _better(name, x, y)))
    if not a.is_regression:
        x, y = a.metrics["calibration"]["ece"], b.metrics["calibration"]["ece"]
        rows.append(("Calibration error", _figure(x), _figure(y), _better("ece", x, y)))
    rows += [
        ("Training time", f"{a.training_seconds:.1f} s", f"{b.training_seconds:.1f} s", ""),
        ("scikit-learn", a.sklearn_version, b.sklearn_version, ""),
        ("Trained", f"{a.created_at:%Y-%m-%d %H:%M}", f"{b.created_at:%Y-%m-%d %H:%M}", ""),
    ]
    for name in sorted(a.params.keys() | b.params.keys()):
        label = param_label(a.algorithm if name in a.params else b.algorithm, name)
        rows.append((label, str(a.params.get(name, "—")), str(b.params.get(name, "—")), ""))
    return rows


def _figure(value, name: str = "") -> str:
    if value is None:
        return "—"
    return format_percent(value) if name == "accuracy" else f"{value:.4f}"


def _better(name: str, x, y) -> str:
    if x is None or y is None or x == y:
        return ""
    return "a" if (x < y) == (name in LOWER_IS_BETTER) else "b"


# Staff and owners: train, activate, roll back -----------------------------------------


@staff_required
@require_http_methods(["GET", "POST"])
def train(request: HttpRequest) -> HttpResponse:
    """The monsters' training page (staff)."""
    return _train_page(request, monsters_dataset())


@login_required
@require_http_methods(["GET", "POST"])
def dataset_train(request: HttpRequest, slug: str) -> HttpResponse:
    """A dataset's training page: its owner and staff."""
    dataset = get_object_or_404(Dataset.objects.visible_to(request.user), slug=slug)
    if not can_train(request.user, dataset):
        raise PermissionDenied("Only the dataset's owner and staff train its models.")
    return _train_page(request, dataset)


def _train_page(request: HttpRequest, dataset: Dataset) -> HttpResponse:
    """Choose what to train (?from=N starts from version N's settings); it runs as a background job."""
    profile = dataset_profile(dataset)
    distinct = {column.name: column.distinct or 0 for column in profile.columns}
    initial = {}
    source = request.GET.get("from", "")
    if source.isascii() and source.isdigit():
        version = get_object_or_404(
            ModelVersion.objects.without_blobs(), dataset=dataset, version=int(source)
        )
        initial = train_initial(training_options_of(version))
    form = TrainForm(
        request.POST or None,
        initial=initial,
        dataset=dataset,
        distinct=distinct,
        rows=profile.rows,
        default_target=default_target(dataset),
    )
    if request.method == "POST" and form.is_valid():
        options = form.training_options()
        summary = (
            f"Train {ALGORITHM_LABELS[options['algorithm']].lower()} on {dataset.name}: "
            f"{', '.join(options['features'])} to predict {options['target']}"
        )
        job = job_start(
            tasks.train,
            kind=Job.Kind.TRAIN,
            summary=summary,
            actor=request.user,
            actor_id=request.user.pk,
            dataset_id=dataset.pk,
            options=options,
        )
        job_follow(request, job)
        return redirect(job)
    status = 400 if request.method == "POST" else 200
    groups = [(name, label, form.param_fields(name)) for name, label in ALGORITHM_LABELS.items()]
    context = {"form": form, "param_groups": groups, "dataset": dataset, "source": source}
    return render(request, "ml/train.html", context, status=status)


def _trainable_version(request: HttpRequest, number: int) -> ModelVersion:
    version = get_object_or_404(visible_versions(request.user).select_related("dataset"), version=number)
    if not can_train(request.user, version.dataset):
        raise PermissionDenied("Only the dataset's owner and staff activate its models.")
    return version


@login_required
@require_POST
def activate(request: HttpRequest, number: int) -> HttpResponse:
    """Make a version its group's active one; one that scores lower than the active one is
    activated only once confirmed (the form posts `confirmed`)."""
    version = _trainable_version(request, number)
    active = (
        ModelVersion.objects.without_blobs().of_group(version.dataset_id, version.target)
        .filter(is_active=True).exclude(pk=version.pk).first()
    )  # fmt: skip
    lower = active is not None and active.task == version.task and version.headline < active.headline
    if lower and not request.POST.get("confirmed"):
        return render(request, "ml/activate_confirm.html", {"version": version, "active": active})
    model_version_activate(version=version, actor=request.user)
    messages.success(
        request, f"Model v{number} is now the active version of {version.dataset.name} {version.target}."
    )
    return redirect("ml:versions")


@login_required
@require_POST
def rollback(request: HttpRequest) -> HttpResponse:
    """Roll back one group (POST dataset and target; default the monsters' rarity)."""
    dataset = get_object_or_404(
        Dataset.objects.visible_to(request.user), slug=request.POST.get("dataset") or MONSTERS
    )
    if not can_train(request.user, dataset):
        raise PermissionDenied("Only the dataset's owner and staff roll back its models.")
    try:
        version = model_version_rollback(
            dataset=dataset, target=request.POST.get("target") or None, actor=request.user
        )
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, f"Rolled back: model v{version.version} is active again.")
    return redirect("ml:versions")


# Signed in: downloads ------------------------------------------------------------


@login_or_token_required
@require_GET
def download(request: HttpRequest, number: int | None = None) -> HttpResponse:
    """The version's fitted pipeline as a joblib file, its sha256 in a header, its card linked.

    Without a number: the monsters' active rarity model.  Only after its sha256
    and signature check out: a forged pipeline is never handed out.
    """
    versions = ModelVersion.objects.filter(dataset__in=Dataset.objects.visible_to(request.user))
    version = (
        get_object_or_404(versions, version=number)
        if number is not None
        else versions.filter(is_active=True, dataset__slug=MONSTERS, target=DEFAULT_TARGET).first()
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


@login_or_token_required
@require_GET
def card(request: HttpRequest, number: int) -> JsonResponse:
    """The model card: what a downloaded pipeline needs, takes and scored."""
    version = get_object_or_404(visible_versions(request.user).select_related("dataset"), version=number)
    return JsonResponse(model_card(version), json_dumps_params={"indent": 2})
