from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditEntry(models.Model):
    """Who changed the data or the models, what they did, and when."""

    class Action(models.TextChoices):
        SEED = "seed", "Seeded monsters"
        RESET = "reset", "Reset and reseeded the monsters"
        IMPORT = "import", "Imported monsters"
        TRAIN = "train", "Trained a model version"
        ACTIVATE = "activate", "Activated a model version"
        ROLLBACK = "rollback", "Rolled back to the previous model version"

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        help_text="Empty for the command line and other unattended runs.",
    )
    action = models.CharField(max_length=16, choices=Action)
    summary = models.CharField(max_length=200)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        who = self.actor.get_username() if self.actor_id else "command line"
        return f"{self.created_at:%Y-%m-%d %H:%M} {who}: {self.summary}"


class Job(models.Model):
    """A background job someone started, beside the task queue's own row (same id).

    The queue (django-tasks-db) keeps the status, times, result and error;
    this keeps who asked, what for, and where the job runs, so that a job
    whose worker was killed can be told from one still running.
    """

    class Kind(models.TextChoices):
        RESEED = "reseed", "Reset and reseed"
        TRAIN = "train", "Train a model"
        DATASET = "dataset", "Load a dataset"
        IMPORT = "import", "Import monsters"

    id = models.UUIDField(primary_key=True)
    kind = models.CharField(max_length=16, choices=Kind)
    summary = models.CharField(max_length=200)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)
    runner_host = models.CharField(max_length=255, blank=True)
    runner_pid = models.PositiveIntegerField(null=True, blank=True)
    # How far the job is, as it reports it (jobs.JobProgress): {"done", "total", "unit", "note", "since"}.
    progress = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.summary}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("job", args=[self.pk])


class Snapshot(models.Model):
    """A result computed from the whole of the data at one version of it (a profile, counts, anchors).

    Worked out off the request path after each change (bandersnatch/snapshots.py) and
    read by every web process and host, so no visitor waits for it.  Plain JSON, never
    pickles: whoever can write a row must not be able to run code.
    """

    name = models.CharField(max_length=100)
    data_version = models.CharField(max_length=64)
    value = models.JSONField()
    computed_at = models.DateTimeField(default=timezone.now)
    seconds = models.FloatField(help_text="How long it took to compute.")

    class Meta:
        ordering = ["-computed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["name", "data_version"], name="one_snapshot_per_name_and_version")
        ]

    def __str__(self) -> str:
        return f"{self.name} at data version {self.data_version}"


class WorkerHeartbeat(models.Model):
    """A background worker's latest check-in (every few seconds, also while it runs a job).

    /api/health and /ops/ read it to tell jobs that wait for a busy or slow
    worker from jobs that wait for none at all.
    """

    worker_id = models.CharField(max_length=64, unique=True)
    host = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-seen_at"]

    def __str__(self) -> str:
        return f"worker {self.worker_id} ({self.host}, pid {self.pid})"


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)

    def revoked(self):
        return self.filter(revoked_at__isnull=False)


class ApiToken(models.Model):
    """A named secret a user's scripts send as `Authorization: Bearer <token>`, acting as that user.

    Only the secret's sha256 is stored, so the secret is shown once, when it is
    made (bandersnatch.tokens); the visible prefix tells tokens apart.  A
    revoked token keeps its row, so that using it says "revoked", not "unknown".
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What it is for, e.g. the script that uses it.")
    prefix = models.CharField(max_length=16, help_text="The secret's first characters, to tell tokens apart.")
    secret_sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class MaintenanceRun(models.Model):
    """One day's scheduled maintenance (bandersnatch.maintenance), claimed before it runs.

    The day is unique, so of several schedulers (on several hosts) the first
    to insert the day's row runs the chores and the others skip them.
    """

    day = models.DateField(unique=True, help_text="The day it ran for, in the server's time zone.")
    host = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(
        null=True, blank=True, help_text="Empty while it runs, or if it failed."
    )
    deleted = models.JSONField(default=dict, blank=True, help_text="Rows deleted, per chore.")

    class Meta:
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"maintenance of {self.day:%Y-%m-%d}"
