from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from bandersnatch.columns import column_from_dict, format_percent


def algorithm_choices() -> list[tuple[str, str]]:
    from .algorithms import ALGORITHMS  # scikit-learn: imported when the choices are asked for

    return [(name, algorithm.label) for name, algorithm in ALGORITHMS.items()]


class Task(models.TextChoices):
    CLASSIFICATION = "classification", "classification"
    REGRESSION = "regression", "regression"


class ModelVersionQuerySet(models.QuerySet):
    def without_blobs(self) -> "ModelVersionQuerySet":
        """Everything but the pickled bytes (megabytes per row on large data)."""
        return self.defer("artifact", "detector")

    def of_group(self, dataset, target: str) -> "ModelVersionQuerySet":
        """The versions that predict `target` of `dataset`: one registry group."""
        return self.filter(dataset=dataset, target=target)


class ModelVersion(models.Model):
    """One training run: its settings, its measured quality, and the fitted pipeline itself.

    Versions are grouped by dataset and target; each group has at most one
    active version (the database says so), and version numbers run across all
    groups.

    The pipeline lives in the database (joblib bytes, checked by sha256 and by a
    signature made with a key outside the database), so every web process and
    server sees the same versions without a shared disk.
    """

    version = models.PositiveIntegerField(unique=True)
    dataset = models.ForeignKey("analytics.Dataset", on_delete=models.CASCADE, related_name="model_versions")
    target = models.CharField(max_length=63, help_text="The column it predicts.")
    task = models.CharField(max_length=16, choices=Task, default=Task.CLASSIFICATION)
    algorithm = models.CharField(max_length=40, choices=algorithm_choices)
    params = models.JSONField(default=dict)
    features = models.JSONField()
    inputs = models.JSONField(default=list, help_text="The column description of what a prediction takes.")
    cleaning = models.JSONField(default=dict, help_text="The steps before the estimator, per feature.")
    metrics = models.JSONField(default=dict)
    n_train = models.PositiveIntegerField()
    n_test = models.PositiveIntegerField()
    seed = models.BigIntegerField(null=True, blank=True)
    training_seconds = models.FloatField()
    data_rows = models.PositiveIntegerField(help_text="Rows in the dataset when it was trained.")
    data_fingerprint = models.CharField(max_length=64, help_text="sha256 of the rows it saw.")
    data_version = models.CharField(max_length=100, help_text="The dataset's data version it saw.")
    data_generation = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="The dataset's generation it saw (Dataset.generation); empty: unknown.",
    )
    python_version = models.CharField(max_length=20)
    sklearn_version = models.CharField(max_length=20)
    artifact = models.BinaryField(help_text="joblib bytes of the fitted pipeline.")
    sha256 = models.CharField(max_length=64)
    detector = models.BinaryField(
        null=True, blank=True, help_text="joblib bytes of the in-distribution check."
    )
    artifact_signature = models.CharField(
        max_length=64, blank=True, help_text="HMAC-SHA256 of the pipeline, keyed by MODEL_SIGNING_KEY."
    )
    detector_signature = models.CharField(
        max_length=64, blank=True, help_text="HMAC-SHA256 of the in-distribution check; empty without one."
    )
    is_active = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ModelVersionQuerySet.as_manager()

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["dataset", "target"], condition=Q(is_active=True), name="one_active_version_per_group"
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="model_version_from_one"),
        ]

    def __str__(self) -> str:
        return f"v{self.version} {self.get_algorithm_display()} of {self.target} ({self.headline_text})"

    @property
    def is_regression(self) -> bool:
        return self.task == Task.REGRESSION

    @property
    def accuracy(self) -> float | None:
        """Test accuracy of a classifier (None for a number)."""
        return None if self.is_regression else float(self.metrics.get("accuracy", 0.0))

    @property
    def headline(self) -> float:
        """The test figure versions of a group are ranked by: accuracy, or R² for numbers."""
        return float(self.metrics.get("r2" if self.is_regression else "accuracy", 0.0))

    @property
    def headline_text(self) -> str:
        return (
            f"R² {self.headline:.3f}" if self.is_regression else f"accuracy {format_percent(self.headline)}"
        )

    @property
    def retrain_url(self) -> str:
        """Its dataset's training page, filled in with its settings."""
        if self.dataset.is_builtin:
            page = reverse("ml:train")
        else:
            page = reverse("ml:dataset-train", args=[self.dataset.slug])
        return f"{page}?from={self.version}"

    @property
    def trained_on_replaced_data(self) -> bool:
        """Whether every row of its dataset was replaced since it was trained (a reseed, a replacing
        import or a reload); a version with no generation recorded counts as trained on this one."""
        return self.data_generation is not None and self.data_generation != self.dataset.generation

    @property
    def input_columns(self):
        return tuple(column_from_dict(data) for data in self.inputs)


class Promotion(models.Model):
    """One change of the active version: which became active, after which one, by whom, when."""

    class Reason(models.TextChoices):
        TRAINED = "trained", "trained and activated"
        ACTIVATED = "activated", "activated"
        ROLLBACK = "rollback", "rolled back"

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="promotions")
    previous = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=16, choices=Reason)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    activated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-activated_at", "-id"]

    def __str__(self) -> str:
        return f"v{self.version.version} {self.get_reason_display()} {self.activated_at:%Y-%m-%d %H:%M}"


class PredictionLog(models.Model):
    """One answered prediction: what was asked, what was said, by which version, how fast."""

    class Source(models.TextChoices):
        API = "api", "API"
        PAGE = "page", "/model page"

    created_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=8, choices=Source)
    model_version = models.PositiveIntegerField()
    inputs = models.JSONField()
    prediction = models.TextField(help_text="The class, or the predicted number.")
    confidence = models.FloatField(null=True, blank=True, help_text="Empty for a predicted number.")
    probabilities = models.JSONField(default=dict)
    in_distribution = models.BooleanField()
    latency_ms = models.FloatField(help_text="Time to answer the request this prediction was part of.")
    public_id = models.UUIDField(null=True, blank=True, unique=True, help_text="The id its answer carried.")
    # A database default too: processes still on the code before it keep writing the log during a deploy.
    request_id = models.CharField(
        max_length=64,
        blank=True,
        default="",
        db_default="",
        help_text="The X-Request-ID of the request that asked; its log lines carry it.",
    )
    # What a signed-in user said of it afterwards: right or not, and the true value.
    feedback_correct = models.BooleanField(null=True, blank=True)
    feedback_value = models.TextField(blank=True)
    feedback_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    feedback_at = models.DateTimeField(null=True, blank=True)
    feedback_added = models.BooleanField(default=False, help_text="Added to its dataset as a labelled row.")

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["created_at"], name="prediction_log_created_at")]

    def __str__(self) -> str:
        said = self.prediction if self.confidence is None else f"{self.prediction} ({self.confidence:.0%})"
        return f"{said} by v{self.model_version} via {self.source}"
