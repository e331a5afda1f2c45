# Bandersnatch: `make run` to use it, `make test` to test it (see README.md).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# Local runs only: DEBUG on (so no SECRET_KEY is needed); DATABASE_URL passes through.
RUN_ENV := DEBUG=true

.PHONY: run test bench screenshots lint format clean plotly-js

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

run: $(STAMP)
	$(RUN_ENV) $(BIN)/python manage.py migrate --no-input
	$(RUN_ENV) $(BIN)/python manage.py seed --if-empty --count 1000
	$(RUN_ENV) $(BIN)/python manage.py train --if-none
	$(RUN_ENV) $(BIN)/python manage.py collectstatic --no-input --verbosity 0
	@# The background worker (training, large reseeds) runs beside the server, is started again
	@# if it dies (a clean exit, as on Ctrl-C, ends the loop), and stops with the server; so does
	@# the scheduler (the daily maintenance at MAINTENANCE_TIME), as in the Procfile.
	( trap 'kill $$pid 2>/dev/null; exit' TERM; \
	  while :; do \
	    $(RUN_ENV) $(BIN)/python manage.py db_worker --no-reload & pid=$$!; \
	    wait $$pid && exit; \
	    echo "The worker died (exit status $$?); starting it again in 2 s." >&2; sleep 2; \
	  done ) & worker=$$!; \
	$(RUN_ENV) $(BIN)/python manage.py scheduler & scheduler=$$!; \
	trap 'kill $$worker $$scheduler 2>/dev/null' EXIT INT TERM; \
	$(RUN_ENV) $(BIN)/python manage.py runserver $(HOST):$(PORT)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

# Every page at a desktop and a phone size, light and dark, into var/screenshots/ (git-ignored),
# on a database of its own so that var/db.sqlite3 is never touched.  Needs Chromium.
SHOTS_ENV := $(RUN_ENV) DATABASE_URL=sqlite:///$(CURDIR)/var/screenshots.sqlite3
screenshots: $(STAMP)
	$(SHOTS_ENV) $(BIN)/python manage.py migrate --no-input --verbosity 0
	$(SHOTS_ENV) $(BIN)/python manage.py collectstatic --no-input --verbosity 0
	$(SHOTS_ENV) $(BIN)/python manage.py screenshots --out var/screenshots $(SCREENSHOTS_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# plotly.js's strict bundle (no eval) at the plotly package's version, and the styles it carries as
# stylesheets (analytics/plotly_js.py), into static/vendor/.  Committed: run it after upgrading plotly.
# Needs npm.
plotly-js: $(STAMP)
	version=$$($(BIN)/python -c "import plotly.offline; print(plotly.offline.get_plotlyjs_version())") && \
	tmp=$$(mktemp -d) && \
	npm pack --silent --pack-destination $$tmp plotly.js-strict-dist-min@$$version >/dev/null && \
	tar -xzf $$tmp/plotly.js-strict-dist-min-$$version.tgz -C $$tmp && \
	cp $$tmp/package/plotly-strict.min.js static/vendor/plotly-strict.min.js && \
	cp $$tmp/package/LICENSE static/vendor/plotly-LICENSE.txt && \
	rm -rf $$tmp
	$(BIN)/python -m analytics.plotly_js

clean:
	rm -rf $(VENV) var
