"""Each model version remembers which generation of its dataset it was trained on.

A dataset's generation (analytics.Dataset.generation) goes up each time every
row is replaced; a version trained on an earlier one says so on its card.  The
versions there are get theirs from what the database kept:

- a dataset's rows are replaced into a new table, and a version's data version
  names the table it saw: the dataset's table is this generation, another one
  an earlier one;
- the monsters are replaced by a reseed or a replacing import, each recorded in
  the audit log: their generation counts those, a version's the ones before it
  was stored.  A version whose training ran while a replace was committed is
  taken to have seen the new monsters; that is as close as the record allows.
"""

from django.db import migrations, models
from django.db.models import Q

MONSTERS_REPLACED = Q(action="reset") | Q(action="import", details__mode="replace")


def derive_generations(apps, schema_editor):
    Dataset = apps.get_model("analytics", "Dataset")
    ModelVersion = apps.get_model("ml", "ModelVersion")
    AuditEntry = apps.get_model("bandersnatch", "AuditEntry")
    for dataset in Dataset.objects.filter(pk__in=ModelVersion.objects.values("dataset")):
        versions = ModelVersion.objects.filter(dataset=dataset)
        if dataset.is_builtin and dataset.slug == "monsters":
            replaced = AuditEntry.objects.filter(MONSTERS_REPLACED)
            dataset.generation = 1 + replaced.count()
            for version in versions:
                version.data_generation = 1 + replaced.filter(created_at__lt=version.created_at).count()
                version.save(update_fields=["data_generation"])
        else:
            current = versions.filter(data_version__startswith=f"{dataset.pk}:{dataset.table}:")
            earlier = versions.exclude(pk__in=current.values("pk"))
            dataset.generation = 2 if earlier.exists() else 1
            earlier.update(data_generation=1)
            current.update(data_generation=dataset.generation)
        dataset.save(update_fields=["generation"])


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0002_dataset_generation"),
        ("bandersnatch", "0004_job_progress"),
        ("ml", "0007_prediction_feedback"),
    ]

    operations = [
        migrations.AddField(
            model_name="modelversion",
            name="data_generation",
            field=models.PositiveIntegerField(
                blank=True,
                help_text="The dataset's generation it saw (Dataset.generation); empty: unknown.",
                null=True,
            ),
        ),
        migrations.RunPython(derive_generations, migrations.RunPython.noop),
    ]
