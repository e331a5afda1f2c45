"""Every model version belongs to a dataset and a target; one active version per pair.

The versions there are all predict a monster column, so they join the
monsters' rarity or type group, keeping their numbers; their input columns
are read off the monster column description.
"""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Q

MONSTER_TABLE = "monsters_monster"


def into_monster_groups(apps, schema_editor):
    ModelVersion = apps.get_model("ml", "ModelVersion")
    if not ModelVersion.objects.exists():
        return
    from bandersnatch.columns import column_to_dict
    from monsters.columns import COLUMN, MONSTER_COLUMNS

    Dataset = apps.get_model("analytics", "Dataset")
    monsters, _ = Dataset.objects.get_or_create(
        slug="monsters",
        defaults={"name": "Monsters", "table": MONSTER_TABLE, "is_builtin": True, "is_public": True,
                  "columns": [column_to_dict(column) for column in MONSTER_COLUMNS]},
    )  # fmt: skip
    for version in ModelVersion.objects.all():
        version.dataset = monsters
        version.inputs = [column_to_dict(COLUMN[name]) for name in version.features]
        version.cleaning = {"engineering": "level negated, resources sorted (smallest, middle, largest), "
                                           "type one-hot encoded", "features": {}}  # fmt: skip
        # Dataset.data_version(): the monsters' data version, behind the dataset's id and table.
        version.data_version = f"{monsters.pk}:{monsters.table}:{version.data_version}"
        version.save(update_fields=["dataset", "inputs", "cleaning", "data_version"])


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0001_datasets"),
        ("ml", "0005_lazy_choices"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="modelversion", name="one_active_model_version"),
        migrations.AddField(
            model_name="modelversion",
            name="dataset",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="model_versions",
                to="analytics.dataset",
            ),
        ),
        migrations.AddField(
            model_name="modelversion",
            name="task",
            field=models.CharField(
                choices=[("classification", "classification"), ("regression", "regression")],
                default="classification",
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="modelversion",
            name="inputs",
            field=models.JSONField(
                default=list, help_text="The column description of what a prediction takes."
            ),
        ),
        migrations.AddField(
            model_name="modelversion",
            name="cleaning",
            field=models.JSONField(default=dict, help_text="The steps before the estimator, per feature."),
        ),
        migrations.AlterField(
            model_name="modelversion",
            name="target",
            field=models.CharField(help_text="The column it predicts.", max_length=63),
        ),
        migrations.AlterField(
            model_name="modelversion",
            name="data_rows",
            field=models.PositiveIntegerField(help_text="Rows in the dataset when it was trained."),
        ),
        migrations.AlterField(
            model_name="modelversion",
            name="data_version",
            field=models.CharField(help_text="The dataset's data version it saw.", max_length=100),
        ),
        migrations.RunPython(into_monster_groups, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="modelversion",
            name="dataset",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="model_versions",
                to="analytics.dataset",
            ),
        ),
        migrations.AlterField(
            model_name="predictionlog",
            name="prediction",
            field=models.TextField(help_text="The class, or the predicted number."),
        ),
        migrations.AlterField(
            model_name="predictionlog",
            name="confidence",
            field=models.FloatField(blank=True, help_text="Empty for a predicted number.", null=True),
        ),
        migrations.AlterField(
            model_name="predictionlog", name="probabilities", field=models.JSONField(default=dict)
        ),
        migrations.AddConstraint(
            model_name="modelversion",
            constraint=models.UniqueConstraint(
                condition=Q(is_active=True), fields=("dataset", "target"), name="one_active_version_per_group"
            ),
        ),
    ]
