"""gunicorn's settings for the web process (the Procfile's `gunicorn bandersnatch.wsgi`).

gunicorn reads this file from the working directory; a flag on its command line
wins over the value here (e.g. `--timeout 3`).  The benchmark starts its servers
with this file too, so its numbers describe what ships.
"""

import os
import shutil
import tempfile
from pathlib import Path

from gunicorn import glogging

from bandersnatch.logs import gunicorn_logging_config

# Threads in each process, not one request per process: a long streaming
# response (a CSV export of millions of monsters) holds one thread while the
# others keep answering, and the timeout below watches the process's main loop,
# not the request, so the export is never cut off.  The GIL lets one thread
# compute at a time: threads pay off in database and network waits; for the
# CPU-bound API they give the requests/s of sync workers with a somewhat longer
# tail (the API section of docs/benchmarks.md measures it against its target).
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 4))

# One process per core: each holds its own copy of the active model and its own
# database connections (one per thread, kept for CONN_MAX_AGE, plus the
# prediction log's writer).  WEB_CONCURRENCY is the name hosting platforms set.
workers = int(os.environ.get("WEB_CONCURRENCY", 2))

# A process whose main loop has not reported for this long is stuck (a thread
# holding the GIL in C code, a deadlock) and is replaced.  No request of ours
# computes for anywhere near this long; long work runs as a background job.
timeout = 30

# On a restart or deploy, requests under way get this long to finish before the
# process is killed (hosting platforms kill at about 30 s after SIGTERM anyway).
graceful_timeout = 30

# An idle kept-alive connection waits in the process's poller, not in a thread,
# for this many seconds: API clients and the proxy in front skip a TCP handshake
# per request at no cost in threads.
keepalive = 5

# gunicorn's own messages (start, worker restarts and timeouts) go to standard
# error beside the app's log (settings.LOGGING), where the platform collects
# them.  No access log: the proxy in front logs every request, and the API's
# predictions are in the prediction log.
errorlog = "-"
accesslog = None
# In the app's LOG_FORMAT: with LOG_FORMAT=json they are JSON lines too.
logconfig_dict = gunicorn_logging_config(os.environ.get("LOG_FORMAT", "plain"))


class Logger(glogging.Logger):
    """gunicorn's logger, with the access log on only when asked for (`accesslog`): gunicorn
    would turn it on whenever logconfig_dict is set, at a cost on every request."""

    @property
    def access_log_enabled(self):
        return self.cfg.accesslog is not None


logger_class = Logger

# /metrics (bandersnatch.metrics): each worker process counts its requests and
# predictions in files of its own in PROMETHEUS_MULTIPROC_DIR, and a scrape of
# any one of them adds up the files of all.  Unset, the server makes a directory
# of its own in the temporary directory and removes it when it stops; set, it
# must be a directory for this server alone, emptied at each start.  Chosen as
# the server starts, before the workers are forked (they inherit it and load the
# app after the fork: no preload_app), so this file can be read without a
# server (--print-config) and leaves nothing behind.
OWN_METRICS_DIR = "BANDERSNATCH_OWN_METRICS_DIR"


def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory or os.environ.get(OWN_METRICS_DIR):  # unset, or an upgraded master's (USR2)
        directory = tempfile.mkdtemp(prefix="bandersnatch-metrics-")
        os.environ.update({"PROMETHEUS_MULTIPROC_DIR": directory, OWN_METRICS_DIR: directory})
        return
    Path(directory).mkdir(parents=True, exist_ok=True)
    for left_over in Path(directory).glob("*.db"):  # an earlier server's counts would be added in
        left_over.unlink()


def child_exit(server, worker):
    """A worker process ended: its counts stay in the sums, its live gauges go."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    own = os.environ.get(OWN_METRICS_DIR)
    if own and own == os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        shutil.rmtree(own, ignore_errors=True)


# No control socket (gunicornc): nothing here uses it, and every gunicorn on a
# machine would otherwise claim the same default path (tests and benchmarks run
# several at once).
control_socket_disable = True
