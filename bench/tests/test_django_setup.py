"""The benchmark's servers run with production settings, the API's request limits off."""

from bandersnatch.tests.test_settings import manage
from bench.django_setup import DEFAULT_URL, server_environment


def test_the_benchmark_environment_turns_both_api_limits_off():
    code = "from django.conf import settings as s; print(s.DEBUG, s.API_THROTTLE_ANON, s.API_THROTTLE_TOKEN)"
    result = manage("shell", "-v", "0", "-c", code, **server_environment(DEFAULT_URL))
    assert result.stdout.split() == ["False", "None", "None"], result.stderr
