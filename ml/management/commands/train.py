"""Train a model on every row of a dataset and register it as a new version.

`make run` calls it with --if-none so a fresh install has a model to predict
with; without --dataset it trains the monsters' rarity model as it always
has.  Staff and dataset owners train from the training pages too.
"""

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from analytics.models import Dataset
from ml.algorithms import ALGORITHMS, TASKS
from ml.cleaning import EMPTY_CHOICES
from ml.models import ModelVersion
from ml.services import MONSTERS, default_target, model_version_train, training_options_of


def _param(text: str) -> tuple[str, object]:
    name, equals, value = text.partition("=")
    if not equals or not name:
        raise CommandError(f"--param takes NAME=VALUE, not {text!r}.")
    try:
        return name, json.loads(value)
    except ValueError:
        return name, value


def _clean(text: str) -> tuple[str, dict]:
    """FEATURE=HOW or FEATURE=constant:VALUE, as the cleaning plans take it."""
    name, equals, how = text.partition("=")
    empty, _, constant = how.partition(":")
    if not equals or not name or not empty:
        raise CommandError(
            f"--clean takes FEATURE=HOW (HOW one of {', '.join(EMPTY_CHOICES)}), not {text!r}."
        )
    return name, {"empty": empty, "constant": constant or None}


class Command(BaseCommand):
    help = (
        "Train a model version on every row of a dataset, print its metrics, and activate it if it is better."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dataset", help="The dataset's slug. Default: the monsters.")
        parser.add_argument(
            "--target", help="The column to predict. Default: the dataset's (monsters: rarity)."
        )
        parser.add_argument(
            "--features",
            help="Comma-separated columns. Default: every usable one (monsters: the four numbers).",
        )
        parser.add_argument("--task", choices=TASKS, help="Default: what the target's kind suggests.")
        parser.add_argument("--algorithm", help=f"One of {', '.join(ALGORITHMS)}. Default: the task's.")
        parser.add_argument("--seed", help="Random seed: the same data and seed give the same model.")
        parser.add_argument("--test-size", help="Share of rows held out for testing (0.05-0.5, default 0.2).")
        parser.add_argument(
            "--param", action="append", default=[], metavar="NAME=VALUE", help="A hyperparameter, e.g. C=100."
        )
        parser.add_argument(
            "--clean",
            action="append",
            default=[],
            metavar="FEATURE=HOW",
            help=f"How a feature's empty cells are filled: {', '.join(EMPTY_CHOICES)}; constant:VALUE.",
        )
        parser.add_argument(
            "--drop-first", action="store_true", default=None, help="One-hot without the first."
        )
        parser.add_argument("--from-version", type=int, metavar="N", help="Start from version N's settings.")
        parser.add_argument(
            "--activate",
            action="store_true",
            default=None,
            help="Activate it even if it is not better. Default: activate if better, or if none is active.",
        )
        parser.add_argument("--no-activate", dest="activate", action="store_false", help="Never activate it.")
        parser.add_argument(
            "--if-none", action="store_true", help="Do nothing when the group has an active version already."
        )

    def handle(self, *args, **options):
        verbosity = options["verbosity"]
        settings = self._settings(options)
        dataset = settings["dataset"]
        target = settings.get("target") or default_target(dataset)
        if (
            options["if_none"]
            and ModelVersion.objects.of_group(dataset, target).filter(is_active=True).exists()
        ):
            if verbosity >= 1:
                self.stdout.write("A model version is active already; nothing trained.")
            return
        try:
            version = model_version_train(**settings, activate=options["activate"])
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        if verbosity >= 1:
            self.stdout.write(metrics_table(version))
            state = (
                "active" if version.is_active else "not activated (the active version is as good or better)"
            )
            self.stdout.write(self.style.SUCCESS(f"Stored model v{version.version}: {state}."))

    def _settings(self, options) -> dict:
        """model_version_train's keyword arguments: a version's settings, then the options given."""
        settings: dict = {}
        if options["from_version"] is not None:
            version = ModelVersion.objects.without_blobs().filter(version=options["from_version"]).first()
            if version is None:
                raise CommandError(f"No model version {options['from_version']}; nothing trained.")
            settings = training_options_of(version)
        slug = options["dataset"] or (None if settings else MONSTERS)
        if slug is not None:
            dataset = Dataset.objects.filter(slug=slug).first()
            if dataset is None:
                raise CommandError(f"No dataset {slug!r}; manage.py dataset_list shows them.")
            if dataset != settings.get("dataset"):
                settings = {key: value for key, value in settings.items() if key in ("algorithm", "params")}
            settings["dataset"] = dataset
        try:
            if options["seed"] is not None:
                settings["seed"] = int(options["seed"])
            if options["test_size"] is not None:
                settings["test_size"] = float(options["test_size"])
        except ValueError:
            raise CommandError("--seed must be a whole number and --test-size a number.") from None
        if options["features"] is not None:
            settings["features"] = [name.strip() for name in options["features"].split(",") if name.strip()]
        for key in ("target", "task", "algorithm", "drop_first"):
            if options[key] is not None:
                settings[key] = options[key]
        if options["algorithm"] is not None and options["algorithm"] != settings.get("algorithm"):
            settings.pop("params", None)
        if options["param"]:
            settings["params"] = {
                **settings.get("params", {}),
                **dict(_param(text) for text in options["param"]),
            }
        if options["clean"]:
            settings["cleaning"] = {
                **settings.get("cleaning", {}),
                **dict(_clean(text) for text in options["clean"]),
            }
        return settings


def metrics_table(version: ModelVersion) -> str:
    metrics = version.metrics
    lines = [
        f"{version.get_algorithm_display()} on {', '.join(version.features)} -> {version.target}"
        f" ({version.dataset.slug}, {version.task})",
        f"rows: {version.n_train:,} train, {version.n_test:,} test; {version.training_seconds:.1f} s",
        "",
        f"{'':<12}{'model':>9}{'baseline':>10}",
    ]
    baseline = metrics.get("baseline", {})
    names = ("r2", "mae", "rmse") if version.is_regression else ("accuracy", "macro_f1", "log_loss")
    labels = {"r2": "R²", "mae": "MAE", "rmse": "RMSE", "accuracy": "accuracy", "macro_f1": "macro F1",
              "log_loss": "log loss"}  # fmt: skip
    for name in names:
        lines.append(f"{labels[name]:<12}{metrics[name]:>9.4f}{baseline.get(name, float('nan')):>10.4f}")
    left_out = metrics.get("left_out", {})
    if any(left_out.values()):
        lines.append(f"rows left out: {left_out['target_empty']:,} without a {version.target}, "
                     f"{left_out['feature_empty']:,} empty in a feature dropped when empty")  # fmt: skip
    if version.is_regression:
        interval = metrics["interval"]
        lines.append(f"interval: {interval['level']:.0%} of test rows within "
                     f"{interval['low']:+.4f} .. {interval['high']:+.4f} of the prediction")  # fmt: skip
        return "\n".join(lines)
    lines += [
        f"{'calibration':<12}{metrics['calibration']['ece']:>9.4f} expected error",
        "",
        f"{'class':<10}{'precision':>10}{'recall':>10}{'support':>10}",
    ]
    for name, row in metrics["per_class"].items():
        lines.append(f"{name:<10}{row['precision']:>10.4f}{row['recall']:>10.4f}{row['support']:>10,}")
    return "\n".join(lines)
