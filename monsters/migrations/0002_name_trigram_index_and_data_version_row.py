"""The trigram index behind name search (PostgreSQL only) and the data version row.

Django's `name__icontains` becomes `UPPER(name::text) LIKE UPPER(%s)`, so the
index is on that expression.  SQLite has no trigram index; it scans instead.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEX = "monster_name_trigram"


def create_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX {INDEX} ON monsters_monster USING gin (upper(name::text) gin_trgm_ops)"
        )


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


def create_data_version(apps, schema_editor):
    apps.get_model("monsters", "DataVersion").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("monsters", "0001_initial")]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create_trigram_index, drop_trigram_index),
        migrations.RunPython(create_data_version, migrations.RunPython.noop),
    ]
