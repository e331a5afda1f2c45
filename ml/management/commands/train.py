"""Train a model on every monster and register it as a new version.

`make run` calls it with --if-none so a fresh install has a model to predict
with; staff retrain from the command line or (later) the ops pages.
"""

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from ml.models import ModelVersion
from ml.services import model_version_train
from ml.training import ALGORITHMS, DEFAULT_ALGORITHM, DEFAULT_FEATURES, DEFAULT_TARGET, FEATURES, TARGETS


def _param(text: str) -> tuple[str, object]:
    name, equals, value = text.partition("=")
    if not equals or not name:
        raise CommandError(f"--param takes NAME=VALUE, not {text!r}.")
    try:
        return name, json.loads(value)
    except ValueError:
        return name, value


class Command(BaseCommand):
    help = "Train a model version on every monster, print its metrics, and activate it if it is better."

    def add_arguments(self, parser):
        parser.add_argument("--algorithm", default=DEFAULT_ALGORITHM, help=f"One of {', '.join(ALGORITHMS)}.")
        parser.add_argument(
            "--features",
            default=",".join(DEFAULT_FEATURES),
            help=f"Comma-separated, from {', '.join(FEATURES)}.",
        )
        parser.add_argument("--target", default=DEFAULT_TARGET, help=f"One of {', '.join(TARGETS)}.")
        parser.add_argument("--seed", help="Random seed: the same data and seed give the same model.")
        parser.add_argument(
            "--test-size", default="0.2", help="Share of rows held out for testing (0.05-0.5)."
        )
        parser.add_argument(
            "--param", action="append", default=[], metavar="NAME=VALUE", help="A hyperparameter, e.g. C=100."
        )
        parser.add_argument(
            "--activate",
            action="store_true",
            default=None,
            help="Activate it even if it is not better. Default: activate if better, or if none is active.",
        )
        parser.add_argument("--no-activate", dest="activate", action="store_false", help="Never activate it.")
        parser.add_argument(
            "--if-none", action="store_true", help="Do nothing when a version is active already."
        )

    def handle(self, *args, **options):
        verbosity = options["verbosity"]
        if options["if_none"] and ModelVersion.objects.filter(is_active=True).exists():
            if verbosity >= 1:
                self.stdout.write("A model version is active already; nothing trained.")
            return
        try:
            seed = int(options["seed"]) if options["seed"] is not None else None
            test_size = float(options["test_size"])
        except ValueError:
            raise CommandError("--seed must be a whole number and --test-size a number.") from None
        features = [feature.strip() for feature in options["features"].split(",") if feature.strip()]
        try:
            version = model_version_train(
                algorithm=options["algorithm"],
                features=features,
                target=options["target"],
                params=dict(_param(text) for text in options["param"]),
                seed=seed,
                test_size=test_size,
                activate=options["activate"],
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        if verbosity >= 1:
            self.stdout.write(metrics_table(version))
            state = (
                "active" if version.is_active else "not activated (the active version is as good or better)"
            )
            self.stdout.write(self.style.SUCCESS(f"Stored model v{version.version}: {state}."))


def metrics_table(version: ModelVersion) -> str:
    metrics = version.metrics
    lines = [
        f"{version.get_algorithm_display()} on {', '.join(version.features)} -> {version.target}",
        f"rows: {version.n_train:,} train, {version.n_test:,} test; {version.training_seconds:.1f} s",
        "",
        f"{'accuracy':<12}{metrics['accuracy']:>9.4f}",
        f"{'macro F1':<12}{metrics['macro_f1']:>9.4f}",
        f"{'log loss':<12}{metrics['log_loss']:>9.4f}",
        f"{'calibration':<12}{metrics['calibration']['ece']:>9.4f} expected error",
        "",
        f"{'class':<10}{'precision':>10}{'recall':>10}{'support':>10}",
    ]
    for name, row in metrics["per_class"].items():
        lines.append(f"{name:<10}{row['precision']:>10.4f}{row['recall']:>10.4f}{row['support']:>10,}")
    return "\n".join(lines)
