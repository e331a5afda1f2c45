"""Every page of the site, by who looks at it, and the data they need to show something.

`make screenshots` photographs them and the Content-Security-Policy's browser test opens
them all (test_csp_browser.py): a page added here is checked by both.
"""

from pathlib import Path

from django.contrib.auth import get_user_model

# Who signs in as whom: "user" is a plain account, "staff" a staff member.
USERNAMES = {"user": "reader", "staff": "keeper"}


def pages(ids: dict) -> dict[str, list[tuple[str, str]]]:
    """(name, path) of every page, by who looks at it."""
    dataset = f"/datasets/{ids['dataset']}"
    return {
        "anonymous": [
            ("home", "/"),
            ("data", "/data/"),
            ("data-filtered", "/data/?type=Fey&level_min=5&sort=-health"),
            ("data-errors", "/data/?level_min=30&level_max=2"),
            ("data-past-the-end", "/data/?page=9999"),
            ("monster", f"/monsters/{ids['monster']}/"),
            ("view", "/view/"),
            ("view-histogram", "/view/?kind=histogram&x=health&color=rarity"),
            ("view-box", "/view/?kind=box&x=type&y=health&color="),
            ("view-density", "/view/?kind=density&x=level&y=health&color="),
            ("view-nothing", "/view/?q=no+such+monster"),
            ("statistics", "/analytics/"),
            ("model", "/model/"),
            ("versions", "/model/versions/"),
            ("version", f"/model/versions/{ids['version']}/"),
            ("compare", f"/model/versions/compare/?a={ids['version']}&b={ids['other_version']}"),
            ("datasets", "/datasets/"),
            ("dataset", f"{dataset}/"),
            ("dataset-view", f"{dataset}/view/"),
            ("dataset-statistics", f"{dataset}/analytics/"),
            ("dataset-model", f"{dataset}/model/"),
            ("login", "/accounts/login/"),
            ("signup", "/accounts/signup/"),
            ("password-reset", "/accounts/password_reset/"),
            ("password-reset-done", "/accounts/password_reset/done/"),
            ("password-reset-bad-link", "/accounts/reset/MQ/no-such-token/"),
            ("password-reset-complete", "/accounts/reset/done/"),
            ("not-found", "/no/such/page/"),
            ("forbidden", "/ops/"),
            ("api-docs", "/api/docs"),
        ],  # fmt: skip
        "user": [
            ("home", "/"),
            ("forbidden", "/ops/"),
            ("dataset-new", "/datasets/new/"),
            ("dataset-train", f"{dataset}/train/"),
            ("password-change", "/accounts/password_change/"),
            ("account", "/accounts/"),
        ],  # fmt: skip
        "staff": [
            ("ops", "/ops/"),
            ("reset", "/ops/reset/"),
            ("import", "/ops/import/"),
            ("train", "/ops/train/"),
            ("job", f"/ops/jobs/{ids['job']}/"),
            ("monitoring", "/model/monitoring/"),
            ("admin", "/admin/"),
            ("admin-monsters", "/admin/monsters/monster/"),
            ("admin-monster", f"/admin/monsters/monster/{ids['monster']}/change/"),
            ("versions", "/model/versions/"),
        ],  # fmt: skip
    }


def prepare(password: str) -> dict:
    """What the pages show, put in once (a second run finds it there); the ids pages() needs."""
    from analytics.datasets import dataset_create
    from analytics.models import Dataset
    from bandersnatch.jobs import job_start
    from bandersnatch.models import Job
    from ml.models import ModelVersion
    from ml.services import model_version_train
    from monsters import tasks
    from monsters.models import Monster
    from monsters.services import monsters_seed

    users = get_user_model().objects
    for who, staff in (("user", False), ("staff", True)):
        name = USERNAMES[who]
        if not users.filter(username=name).exists():
            users.create_user(name, password=password)
        # Staff with every permission, so that the admin shows its lists and forms.
        users.filter(username=name).update(is_staff=staff, is_superuser=staff)
    if not Monster.objects.exists():
        monsters_seed(count=1_000, seed=42)
    while ModelVersion.objects.filter(dataset__slug="monsters").count() < 2:
        model_version_train(seed=ModelVersion.objects.count())
    dataset = Dataset.objects.filter(name="Iris").first()
    if dataset is None:
        import sklearn

        iris = Path(sklearn.__file__).parent / "datasets/data/iris.csv"
        with open(iris, "rb") as file:
            dataset = dataset_create(
                file=file, name="Iris", owner=users.get(username=USERNAMES["user"]), is_public=True,
                description="scikit-learn's iris flowers.",
            )  # fmt: skip
    if not ModelVersion.objects.filter(dataset=dataset).exists():
        model_version_train(dataset=dataset, seed=0)
    job = Job.objects.filter(kind=Job.Kind.RESEED).first() or job_start(
        tasks.reseed, kind=Job.Kind.RESEED, summary="Replace every monster with 2,000,000 generated ones",
        count=2_000_000, seed=None, actor_id=None,
    )  # fmt: skip
    versions = ModelVersion.objects.filter(dataset__slug="monsters").order_by("-version")
    return {
        "monster": Monster.objects.order_by("pk").values_list("pk", flat=True).first(),
        "version": versions[0].version, "other_version": versions[1].version,
        "dataset": dataset.slug, "job": job.pk,
    }  # fmt: skip
