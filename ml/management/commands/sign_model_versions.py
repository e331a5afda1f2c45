"""Sign the stored model versions with the current MODEL_SIGNING_KEY.

Training signs each version, and the migration that brought signatures signed
the versions already there.  After MODEL_SIGNING_KEY changes (or SECRET_KEY,
when the signing key is derived from it) no signature checks out and every
prediction answers 503 until an operator runs this.  A signature vouches for
the bytes in the row, so signing is never automatic.  With the old key in
MODEL_SIGNING_PREVIOUS_KEY only the blobs it signed are signed again, so a row
forged meanwhile stays refused; without it the stored bytes are trusted as
they are.  A pipeline that no longer matches its sha256 is never signed.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ml.models import ModelVersion
from ml.services import ArtifactTampered, model_version_sign


class Command(BaseCommand):
    help = (
        "Sign every model version (or versions N ...) with the current MODEL_SIGNING_KEY; with "
        "MODEL_SIGNING_PREVIOUS_KEY set, only the blobs that key signed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "numbers", nargs="*", type=int, metavar="N", help="Versions to sign. Default: every version."
        )

    def handle(self, *args, numbers, verbosity, **options):
        versions = ModelVersion.objects.order_by("version")
        if numbers:
            versions = versions.filter(version__in=numbers)
            missing = sorted(set(numbers) - set(versions.values_list("version", flat=True)))
            if missing:
                raise CommandError(f"No model version {', '.join(map(str, missing))}; nothing signed.")
        previous_key = settings.MODEL_SIGNING_PREVIOUS_KEY
        if verbosity >= 1 and not previous_key:
            self.stdout.write(
                self.style.NOTICE(
                    "MODEL_SIGNING_PREVIOUS_KEY is not set: signing the stored blobs as they are."
                )
            )
        signed, refused = [], []
        for number in versions.values_list("version", flat=True):
            version = ModelVersion.objects.get(version=number)  # one row's blobs in memory at a time
            try:
                if model_version_sign(version, previous_key=previous_key):
                    signed.append(f"v{number}")
            except ArtifactTampered as exc:
                refused.append(str(exc))
        if verbosity >= 1:
            message = f"Signed {', '.join(signed)}." if signed else "No version needed a new signature."
            self.stdout.write(self.style.SUCCESS(message))
        if refused:
            raise CommandError(f"Not signed: {' '.join(refused)}")
