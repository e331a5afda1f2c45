from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from monsters.models import Monster
from monsters.tests.factories import MonsterFactory

pytestmark = pytest.mark.django_db


def seed(*args) -> str:
    out = StringIO()
    call_command("seed", *args, stdout=out)
    return out.getvalue()


def test_seed_defaults_to_a_thousand_monsters():
    assert "Seeded 1,000 monsters." in seed()
    assert Monster.objects.count() == 1_000


def test_seed_count_reset_and_seed_options():
    MonsterFactory.create_batch(3)
    seed("--count", "40", "--reset", "--seed", "5")
    first = list(Monster.objects.values_list("name", "level", "health"))
    seed("--count", "40", "--reset", "--seed", "5")
    assert list(Monster.objects.values_list("name", "level", "health")) == first
    assert len(first) == 40


def test_quiet_at_verbosity_zero():
    assert seed("--count", "5", "-v", "0") == ""


def test_if_empty_does_nothing_when_monsters_exist():
    MonsterFactory.create_batch(2)
    assert "nothing seeded" in seed("--if-empty")
    assert Monster.objects.count() == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--count", "-1"], "--count must be between 1 and 100,000,000, not -1."),
        (["--count", "0"], "--count must be between 1 and 100,000,000, not 0."),
        (["--count", "abc"], "--count must be a whole number, not 'abc'."),
        (["--count", "1.5"], "--count must be a whole number, not '1.5'."),
        (["--seed", "x"], "--seed must be a whole number, not 'x'."),
        (["--seed", "-3"], "--seed must be between 0 and"),
    ],
)
def test_bad_arguments_fail_with_one_clear_line(args, message):
    with pytest.raises(CommandError) as raised:
        seed(*args)
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)
    assert not Monster.objects.exists()
