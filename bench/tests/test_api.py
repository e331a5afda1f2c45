"""bench.api.parse_wrk on wrk's real reports (wrk 4.1, `--latency`)."""

import pytest

from bench.api import parse_wrk

# The Req/Sec line's last column ends in "50%", which the percentiles must not be read from.
REPORT = """\
Running 2s test @ http://127.0.0.1:53507/api/predict
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    32.98ms   33.21ms 175.94ms   84.26%
    Req/Sec   298.10    268.54     1.11k    87.50%
  Latency Distribution
     50%   24.04ms
     75%   49.69ms
     90%   81.57ms
     99%  143.10ms
  1205 requests in 2.04s, 780.94KB read
Requests/sec:    590.84
Transfer/sec:    382.91KB
"""

REFUSED = """\
Running 2s test @ http://127.0.0.1:57787/api/predict
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    76.00ms  180.69ms 919.87ms   88.28%
    Req/Sec     1.05k   390.73     1.71k    72.50%
  Latency Distribution
     50%    5.49ms
     75%   14.97ms
     90%  339.27ms
     99%  768.92ms
  4208 requests in 2.02s, 1.55MB read
  Non-2xx or 3xx responses: 4208
Requests/sec:   2078.03
Transfer/sec:    781.46KB
"""


def test_percentiles_come_from_the_latency_distribution_block():
    load = parse_wrk(REPORT)
    assert (load.p50_ms, load.p99_ms) == (24.04, 143.10)
    assert load.max_ms == 175.94
    assert (load.requests, load.per_second, load.errors) == (1205, 590.84, 0)


def test_answers_that_are_not_2xx_count_as_errors():
    load = parse_wrk(REFUSED)
    assert load.errors == 4208
    assert (load.p50_ms, load.p99_ms, load.max_ms) == (5.49, 768.92, 919.87)


def test_socket_errors_count_too():
    report = REPORT.replace(
        "  1205 requests in", "  Socket errors: connect 0, read 3, write 1, timeout 2\n  1205 requests in"
    )
    assert parse_wrk(report).errors == 6


def test_a_report_without_its_distribution_says_so():
    cut = REPORT.split("  Latency Distribution")[0]
    with pytest.raises(ValueError, match="wrk's report has no line matching"):
        parse_wrk(cut)
