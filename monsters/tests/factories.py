import factory

from monsters.generator import DICE, TYPES
from monsters.models import Monster


class MonsterFactory(factory.django.DjangoModelFactory):
    """A monster that follows the design: damage and resources match level and rank."""

    class Meta:
        model = Monster

    class Params:
        rank = factory.Faker("random_int", min=0, max=5)

    name = factory.Sequence(lambda n: f"Test Monster {n}")
    type = factory.Iterator(TYPES)
    level = factory.Faker("random_int", min=1, max=20)
    rarity = factory.LazyAttribute(lambda m: f"Rank {m.rank}")
    damage = factory.LazyAttribute(lambda m: f"{m.level}d{DICE[m.rank]}")
    health = factory.LazyAttribute(lambda m: float(m.level * DICE[m.rank]))
    energy = factory.SelfAttribute("health")
    sanity = factory.SelfAttribute("health")
