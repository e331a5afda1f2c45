"""The registry of datasets: one row per table a user can explore.

Each dataset's rows live in a real table of their own (analytics.tables),
whose columns its `columns` field describes (bandersnatch.columns).  The
monsters are the built-in dataset, backed by the monster table.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from bandersnatch.columns import Column, column_from_dict

# The data versions of the built-in datasets, registered by the app that ships each
# (builtin_version_register): their rows change without a reload of the dataset.
BUILTIN_VERSIONS: dict[str, Callable[[], str]] = {}


def builtin_version_register(slug: str, version: Callable[[], str]) -> None:
    BUILTIN_VERSIONS[slug] = version


class DatasetQuerySet(models.QuerySet):
    def visible_to(self, user) -> DatasetQuerySet:
        """The datasets `user` may see: public ones, their own, every one for staff."""
        if getattr(user, "is_staff", False):
            return self
        if getattr(user, "is_authenticated", False):
            return self.filter(Q(is_public=True) | Q(owner=user))
        return self.filter(is_public=True)


class Dataset(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=60, unique=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="datasets"
    )
    is_public = models.BooleanField(default=False, help_text="Seen by everyone, read-only.")
    is_builtin = models.BooleanField(default=False, editable=False)
    description = models.TextField(blank=True)
    source_name = models.CharField(max_length=255, blank=True, help_text="The file it was loaded from.")
    table = models.CharField(max_length=63, unique=True, editable=False)
    columns = models.JSONField(default=list, editable=False, help_text="The column description.")
    row_count = models.PositiveBigIntegerField(default=0)
    generation = models.PositiveIntegerField(
        default=1,
        editable=False,
        help_text="Goes up each time every row is replaced (not when rows are added): "
        "a model trained on an earlier generation saw other data.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = DatasetQuerySet.as_manager()

    class Meta:
        ordering = ["-is_builtin", "name", "pk"]  # the monsters first

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("analytics:dataset", args=[self.slug])

    @property
    def column_list(self) -> tuple[Column, ...]:
        return tuple(column_from_dict(data) for data in self.columns)

    def data_version(self) -> str:
        """A token that changes whenever the rows do, for cache keys: a reload sets updated_at."""
        builtin = BUILTIN_VERSIONS.get(self.slug) if self.is_builtin else None
        changed = builtin() if builtin else f"{self.updated_at.timestamp():.6f}"
        return f"{self.pk}:{self.table}:{changed}"

    def editable_by(self, user) -> bool:
        """Only the owner and staff load into, replace or delete a dataset (never the built-in one)."""
        if self.is_builtin:
            return False
        return bool(getattr(user, "is_staff", False) or (self.owner_id and self.owner_id == user.pk))
