from django.core.exceptions import ValidationError
from django.db import connections, models
from django.db.models import CharField, F, Q, Value
from django.db.models.functions import Cast, Concat, Length, Substr
from django.db.models.lookups import Exact, In
from django.urls import reverse
from django.utils import timezone
from django.utils.deconstruct import deconstructible

from bandersnatch.columns import ROW_ID, Column

from .columns import COLUMN, MONSTER_COLUMNS, NUMBERS
from .generator import DAMAGE_SUFFIXES, RARITIES, TYPES

# The data page sorts by every column, both ways; each has a (field, id) index.
SORTABLE_FIELDS = tuple(column.name for column in MONSTER_COLUMNS)
RANGE_FIELDS = NUMBERS  # filterable by <field>_min / <field>_max
SHORT_SEARCH_MAX_NAMES = 5_000


_LEVEL_D = Concat(Cast("level", CharField()), Value("d"))
_DAMAGE_SUFFIX = Substr("damage", Length(_LEVEL_D) + 1)  # what follows "{level}d"
# PostgreSQL text never holds NUL, so the database's check starts at \x01.
_CONTROL_CHARACTERS = r"[\x01-\x1f\x7f]"


def column_constraints(columns: tuple[Column, ...], prefix: str) -> list[models.CheckConstraint]:
    """The database's own check of each column's bounds, as the column description states them."""
    constraints = []
    for column in columns:
        if column.checked_by_table:
            continue
        name = f"{prefix}_{column.name}"
        if column.choices:
            constraints.append(models.CheckConstraint(condition=Q(**{f"{column.name}__in": column.choices}),
                                                      name=f"{name}_known"))  # fmt: skip
        elif column.kind == "text":
            constraints += [
                # Blank is only spaces, as Column.problem has it (trim strips spaces only).
                models.CheckConstraint(
                    condition=~Q(**{column.name: ""}) & ~Q(**{f"{column.name}__regex": "^ +$"}),
                    name=f"{name}_not_blank",
                ),  # fmt: skip
                models.CheckConstraint(
                    condition=~Q(**{f"{column.name}__regex": _CONTROL_CHARACTERS}),
                    name=f"{name}_no_control_characters",
                ),  # fmt: skip
            ]
        elif column.minimum is not None or column.maximum is not None:
            # An upper bound also shuts out NaN and infinities.
            bounds = {f"{column.name}__gte": column.minimum, f"{column.name}__lte": column.maximum}
            constraints.append(models.CheckConstraint(condition=Q(**bounds), name=f"{name}_in_range"))
    return constraints


@deconstructible
class ColumnBounds:
    """A field validator saying why a value does not fit its column (forms and the admin)."""

    def __init__(self, column: str):
        self.column = column

    def __call__(self, value) -> None:
        if (problem := COLUMN[self.column].problem(value)) is not None:
            raise ValidationError(problem, code="bounds")

    def __eq__(self, other) -> bool:
        return isinstance(other, ColumnBounds) and other.column == self.column


class MonsterQuerySet(models.QuerySet):
    def matching(
        self, *, type: str | None = None, rarity: str | None = None, q: str = "", **bounds
    ) -> "MonsterQuerySet":
        """The monsters that pass the filters of the data and chart pages.

        `bounds` are inclusive ranges named `<field>_min` / `<field>_max` for the
        fields in RANGE_FIELDS and the id, e.g. level_min=3, health_max=50.5.
        None or an empty value means no filter.
        """
        conditions = Q()
        if type:
            conditions &= Q(type=type)
        if rarity:
            conditions &= Q(rarity=rarity)
        for key, value in bounds.items():
            field, _, end = key.rpartition("_")
            if field not in (ROW_ID, *RANGE_FIELDS) or end not in ("min", "max"):
                raise TypeError(f"matching() got an unexpected filter {key!r}")
            if value is not None:
                conditions &= Q(**{f"{field}__{'gte' if end == 'min' else 'lte'}": value})
        if q:
            conditions &= self._name_contains(q)
        return self.filter(conditions)

    def _name_contains(self, q: str) -> Q:
        """Names containing `q`, case-insensitively, by the fastest index.

        The trigram index (PostgreSQL) serves three characters or more.  A
        shorter string has no trigram, so it is matched against the distinct
        names instead, read by a skip scan of the (name, id) index: a few
        hundred in generated data.  Past SHORT_SEARCH_MAX_NAMES distinct names
        the plain filter is used after all.
        """
        if len(q) >= 3 or connections[self.db].vendor != "postgresql":
            return Q(name__icontains=q)
        table = connections[self.db].ops.quote_name(self.model._meta.db_table)
        pattern = f"%{connections[self.db].ops.prep_for_like_query(q)}%"
        with connections[self.db].cursor() as cursor:
            cursor.execute(
                f"""
                WITH RECURSIVE names(name) AS (
                    (SELECT name FROM {table} ORDER BY name LIMIT 1)
                    UNION ALL
                    SELECT (SELECT m.name FROM {table} m WHERE m.name > names.name ORDER BY m.name LIMIT 1)
                    FROM names WHERE names.name IS NOT NULL
                )
                SELECT name, upper(name) LIKE upper(%s) FROM names WHERE name IS NOT NULL LIMIT %s
                """,
                [pattern, SHORT_SEARCH_MAX_NAMES + 1],
            )
            names = cursor.fetchall()
        if len(names) > SHORT_SEARCH_MAX_NAMES:
            return Q(name__icontains=q)
        return Q(name__in=[name for name, matches in names if matches])

    def count_by_rarity(self) -> dict[str, int]:
        """{rarity: count} for every rarity, zeros included, in one query."""
        counts = dict(self.order_by().values_list("rarity").annotate(n=models.Count("pk")))
        return {rarity: counts.get(rarity, 0) for rarity in RARITIES}


def _validated(name: str) -> dict:
    return {"validators": [ColumnBounds(name)]}


class Monster(models.Model):
    name = models.CharField(max_length=COLUMN["name"].max_length, **_validated("name"))
    type = models.CharField(max_length=16, choices=[(t, t) for t in TYPES])
    level = models.PositiveSmallIntegerField(**_validated("level"))
    rarity = models.CharField(max_length=8, choices=[(r, r) for r in RARITIES])
    damage = models.CharField(max_length=16, help_text='Dice notation, e.g. "8d4+4".')
    health = models.FloatField(**_validated("health"))
    energy = models.FloatField(**_validated("energy"))
    sanity = models.FloatField(**_validated("sanity"))
    created_at = models.DateTimeField(default=timezone.now, **_validated("created_at"))

    objects = MonsterQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=[field, "id"], name=f"monster_{field}_id") for field in SORTABLE_FIELDS
        ]
        # The trigram index on name is made by migration 0002 (PostgreSQL only).
        constraints = [
            *column_constraints(MONSTER_COLUMNS, "monster"),
            models.CheckConstraint(
                # "{level}d{die}" with an optional "+{bonus}", the level being the row's.
                # Plain string functions: a regex, or the 720 damages as choices, cost
                # several times as much per row when a million monsters are loaded.
                condition=Q(Exact(F("damage"), Concat(_LEVEL_D, _DAMAGE_SUFFIX)))
                & Q(In(_DAMAGE_SUFFIX, DAMAGE_SUFFIXES)),
                name="monster_damage_dice",
                violation_error_message="Damage must be dice notation {level}d{die}[+bonus].",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (level {self.level} {self.type}, {self.rarity})"

    def get_absolute_url(self) -> str:
        return reverse("monsters:detail", args=[self.pk])


class DataVersion(models.Model):
    """One row whose number goes up whenever monsters change.

    Caches of figures computed from the whole table (counts, statistics) are
    keyed by it, so every process sees a change at once without a shared cache.
    """

    SINGLETON = 1

    number = models.PositiveBigIntegerField(default=0)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="data_version_singleton")]

    def __str__(self) -> str:
        return f"Monster data version {self.number}"

    @classmethod
    def current(cls) -> str:
        """A token that changes with the data, for cache keys.

        The time is part of it so a recreated database never reuses old keys.
        """
        row = cls.objects.filter(pk=cls.SINGLETON).values_list("number", "changed_at").first()
        return f"{row[0]}-{row[1].timestamp():.6f}" if row else "none"
