"""The JSON API of the monsters: the table with /data's filters, one monster, similar ones."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError

from analytics.api import page_body
from bandersnatch.db import QueryTimedOut
from bandersnatch.schemas import filter_schema, row_schema

from .columns import MONSTER_COLUMNS
from .forms import TABLE_FILTERED, DataPageForm
from .models import Monster
from .selectors import monster_table_page
from .similarity import monsters_similar

router = Router(tags=["monsters"])


class Error(Schema):
    message: str


MonsterOut = row_schema("MonsterOut", MONSTER_COLUMNS, Schema)


class MonsterPage(Schema):
    count: int
    count_is_estimate: bool
    page: int | None
    results: list[MonsterOut]
    next: str | None
    previous: str | None


class PageQuery(Schema):
    """The parameters of /data besides its column filters; the same form checks them all."""

    sort: str = "id"
    per_page: int = 50
    page: str = "1"
    after: str = ""
    before: str = ""
    q: str = ""


TableQuery = filter_schema("TableQuery", TABLE_FILTERED, PageQuery)


@router.get("", response={200: MonsterPage, 400: Error, 503: Error}, summary="Monsters, filtered and paged")
def monster_list(request: HttpRequest, query: Query[TableQuery]):
    """Paged like /data: follow `next` and `previous` (keyset cursors) to walk the table."""
    form = DataPageForm(request.GET)
    if not form.is_valid():
        name, errors = next(iter(form.errors.items()))
        raise HttpError(400, f"{name}: {errors[0]}" if name != "__all__" else errors[0])
    try:
        page = monster_table_page(**form.page_options())
    except ValueError as exc:
        raise HttpError(400, str(exc)) from None
    except QueryTimedOut:
        return Status(503, {"message": "The query took too long; narrow the filters."})
    return page_body(request, page, page.rows)


@router.get("/{int:monster_id}", response={200: MonsterOut, 404: Error}, summary="One monster")
def monster_detail(request: HttpRequest, monster_id: int):
    return _monster(monster_id)


@router.get("/{int:monster_id}/similar", response={200: list[MonsterOut], 404: Error})
def monster_similar(request: HttpRequest, monster_id: int):
    """The 5 monsters most like this one: nearest on the standardised level, health, energy and sanity."""
    return monsters_similar(_monster(monster_id))


def _monster(monster_id: int) -> Monster:
    monster = Monster.objects.filter(pk=monster_id).first()
    if monster is None:
        raise HttpError(404, f"No monster {monster_id}.")
    return monster
