from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


def algorithm_choices() -> list[tuple[str, str]]:
    from .training import ALGORITHMS  # scikit-learn: imported when the choices are asked for

    return [(name, algorithm.label) for name, algorithm in ALGORITHMS.items()]


def target_choices() -> list[tuple[str, str]]:
    from .training import TARGETS

    return [(target, target) for target in TARGETS]


class ModelVersionQuerySet(models.QuerySet):
    def without_blobs(self) -> "ModelVersionQuerySet":
        """Everything but the pickled bytes (megabytes per row on large data)."""
        return self.defer("artifact", "detector")


class ModelVersion(models.Model):
    """One training run: its settings, its measured quality, and the fitted pipeline itself.

    The pipeline lives in the database (joblib bytes, checked by sha256 and by a
    signature made with a key outside the database), so every web process and
    server sees the same versions without a shared disk.
    """

    version = models.PositiveIntegerField(unique=True)
    algorithm = models.CharField(max_length=40, choices=algorithm_choices)
    params = models.JSONField(default=dict)
    features = models.JSONField()
    target = models.CharField(max_length=20, choices=target_choices, default="rarity")
    metrics = models.JSONField(default=dict)
    n_train = models.PositiveIntegerField()
    n_test = models.PositiveIntegerField()
    seed = models.BigIntegerField(null=True, blank=True)
    training_seconds = models.FloatField()
    data_rows = models.PositiveIntegerField(help_text="Monsters in the table when it was trained.")
    data_fingerprint = models.CharField(max_length=64, help_text="sha256 of the rows it saw.")
    data_version = models.CharField(max_length=64, help_text="The monster data version it saw.")
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
                fields=["is_active"], condition=Q(is_active=True), name="one_active_model_version"
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="model_version_from_one"),
        ]

    def __str__(self) -> str:
        return f"v{self.version} {self.get_algorithm_display()} ({self.accuracy:.2%})"

    @property
    def accuracy(self) -> float:
        return float(self.metrics.get("accuracy", 0.0))


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
    prediction = models.CharField(max_length=32)
    confidence = models.FloatField()
    probabilities = models.JSONField()
    in_distribution = models.BooleanField()
    latency_ms = models.FloatField(help_text="Time to answer the request this prediction was part of.")

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["created_at"], name="prediction_log_created_at")]

    def __str__(self) -> str:
        return f"{self.prediction} ({self.confidence:.0%}) by v{self.model_version} via {self.source}"
