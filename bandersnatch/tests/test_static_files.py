"""Static files as `make run` and production serve them: collected, compressed, with a favicon."""

from django.core.management import call_command
from django.test import Client


def test_collected_files_are_served_compressed(settings, tmp_path):
    from bandersnatch import settings as project

    settings.STORAGES = project.STORAGES  # the production storage, not the tests' plain one
    settings.STATIC_ROOT = tmp_path / "static"
    call_command("collectstatic", "--no-input", verbosity=0)
    client = Client()  # a new handler: its WhiteNoise reads this STATIC_ROOT
    plotly = client.get("/static/vendor/plotly-strict.min.js", HTTP_ACCEPT_ENCODING="gzip, deflate")
    assert plotly.status_code == 200 and plotly["Content-Encoding"] == "gzip"
    assert int(plotly["Content-Length"]) < 2_000_000  # 5.2 MB as written
    plain = client.get("/static/vendor/plotly-strict.min.js")
    assert "Content-Encoding" not in plain and int(plain["Content-Length"]) > 5_000_000
    assert client.get("/static/img/favicon.svg").status_code == 200
