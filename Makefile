# ACE: the commands a newcomer needs. `make help` lists them.
#
#   make demo    the admin on http://127.0.0.1:8000/ with demo content and a generated login
#   make test    the whole test suite (SQLite unless DATABASE_URL is set)
#
# Everything runs from a virtualenv in .venv, created on first use and re-installed whenever
# pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-from-pyproject
VENDOR := ace_admin/static/ace_admin/vendor
CODEMIRROR_VERSION := 5.65.20
VENDOR_STAMP := $(VENDOR)/.codemirror-$(CODEMIRROR_VERSION)
# Not HOST: some shells export HOST as the machine name.
DEMO_HOST ?= 127.0.0.1
PORT ?= 8000
CHROMIUM ?= /usr/bin/chromium
# Extra arguments for ace_demo, e.g. ACE_DEMO_ARGS=--force for a demo on a PostgreSQL DATABASE_URL.
ACE_DEMO_ARGS ?=
# Extra arguments for pytest, e.g. `make test PYTEST_ARGS="-x tests/ace"`.
PYTEST_ARGS ?=

# The demo needs no SMTP server: ACE's email channels write each message to var/outbox/ (file_email)
# and Django's own mail (password resets...) is printed on the console. Links in emails (unsubscribe...)
# point at the demo site.
DEMO_ENV := EMAIL_BACKEND=django.core.mail.backends.console.EmailBackend \
	ACE_CHANNEL_DEFAULT_EMAIL=file_email \
	ACE_CHANNEL_TRANSACTIONAL_EMAIL=file_email \
	ACE_PUBLIC_BASE_URL=http://$(DEMO_HOST):$(PORT)

# config/ and demo/ are the runnable project, not installed packages: they are imported from here.
export PYTHONPATH := $(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH))

.DEFAULT_GOAL := help
.PHONY: help venv vendor demo test compat lint bench migrate worker beat clean clean-data

help:
	@echo "make demo        create .venv, migrate, load fixtures/, print an admin login, serve on $(DEMO_HOST):$(PORT)"
	@echo "                 (with a Celery worker + beat for campaigns; messages land in var/outbox/)"
	@echo "make test        create/refresh .venv and run the whole test suite (PYTEST_ARGS=... to narrow)"
	@echo "make compat      run edx-ace's own test suites (1.5.0 and the newest release, from PyPI) against edx_ace"
	@echo "make lint        ruff check"
	@echo "make bench       run every benchmark in bench/ (prints figures)"
	@echo "make migrate     apply database migrations (DATABASE_URL, default SQLite var/ace.sqlite3)"
	@echo "make worker      a Celery worker   (CELERY_BROKER_URL, default a broker that needs no server)"
	@echo "make beat        Celery beat, schedules from the database"
	@echo "make clean       remove .venv and caches (keeps var/: database, outbox, secret key)"
	@echo "make clean-data  remove var/ (the demo database, outbox, generated secret key)"

venv .venv: $(STAMP) $(VENDOR_STAMP)

# Front-end libraries the admin serves from its static files, downloaded from the npm registry at pinned
# versions (never committed): CodeMirror 5 for the template source editor. Needs npm (apt-get install npm).
# Without them the source editor is a plain textarea, which round-trips as well.
vendor: $(VENDOR_STAMP)
$(VENDOR_STAMP):
	@command -v npm >/dev/null 2>&1 || { echo "ERROR: npm is needed to fetch CodeMirror (apt-get install npm)" >&2; exit 1; }
	rm -rf $(VENDOR)/codemirror $(VENDOR)/.codemirror-* && mkdir -p $(VENDOR)/codemirror
	cd $(VENDOR) && npm pack --silent codemirror@$(CODEMIRROR_VERSION) >/dev/null \
		&& tar -xzf codemirror-$(CODEMIRROR_VERSION).tgz -C codemirror --strip-components=1 \
			package/LICENSE package/lib package/mode/xml package/mode/css package/mode/javascript \
			package/mode/htmlmixed package/mode/django package/addon/mode/overlay.js \
		&& rm codemirror-$(CODEMIRROR_VERSION).tgz
	@touch $@

# Re-installs only when pyproject.toml is newer than the stamp.
$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { \
		echo "ERROR: '$(PYTHON)' not found. ACE needs Python >= 3.11 (or run: make PYTHON=/path/to/python3.11 ...)." >&2; \
		exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
		echo "ERROR: ACE needs Python >= 3.11, but $(PYTHON) is $$($(PYTHON) -c 'import sys; print(sys.version.split()[0])')." >&2; \
		echo "       Install a newer Python and run e.g.: make PYTHON=python3.12 $(MAKECMDGOALS)" >&2; \
		exit 1; }
	@if [ ! -x $(BIN)/pip ]; then \
		echo "Creating $(VENV) with $$($(PYTHON) --version)"; \
		$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
			echo "ERROR: '$(PYTHON) -m venv' failed. On Debian/Ubuntu: sudo apt-get install python3-venv" >&2; \
			exit 1; }; \
	fi
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,server]'
	@touch $(STAMP)

migrate: venv
	$(BIN)/python manage.py migrate --noinput

demo: venv
	$(DEMO_ENV) $(BIN)/python manage.py migrate --noinput
	@fixtures="$$(ls fixtures/*.json 2>/dev/null | sort)"; \
	if [ -n "$$fixtures" ]; then \
		echo "Loading demo content: $$fixtures"; \
		$(DEMO_ENV) $(BIN)/python manage.py loaddata $$fixtures; \
	else \
		echo "No fixtures in fixtures/: starting without demo content."; \
	fi
	@$(DEMO_ENV) $(BIN)/python manage.py ace_demo --host $(DEMO_HOST) --port $(PORT) $(ACE_DEMO_ARGS)
	@# A Celery worker with beat (scheduled campaigns) on the broker that needs no server (files under
	@# var/celery/), in the background, stopped with the web server.
	@echo "Starting a Celery worker with beat for campaigns (log: var/worker.log)"
	@# A threads pool, not forked children: a forked child killed by the same Ctrl-C / TERM can leave the
	@# pool's queue lock held, and the worker then never finishes shutting down.
	@$(DEMO_ENV) $(BIN)/celery -A config worker -B --pool threads --concurrency 2 --loglevel INFO \
		--schedule var/celerybeat-schedule >var/worker.log 2>&1 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 $$worker 2>/dev/null || break; \
		sleep 1; done; kill -9 $$worker 2>/dev/null; true' EXIT INT TERM; \
	$(DEMO_ENV) $(BIN)/python manage.py runserver --insecure $(DEMO_HOST):$(PORT)

# Browser tests (tests/e2e, marker e2e) skip themselves when Chromium is absent; say so loudly, since a
# green run without them proves less.
test: venv
	@status=0; $(BIN)/pytest $(PYTEST_ARGS) || status=$$?; \
	if [ -d tests/e2e ] && [ ! -x $(CHROMIUM) ]; then \
		echo ""; \
		echo "NOTE: browser tests (marker e2e: tests/e2e and others) were SKIPPED: $(CHROMIUM) not found."; \
		echo "      Install it to run them: sudo apt-get install -y chromium"; \
	fi; \
	exit $$status

# edx-ace's released test suites, downloaded from PyPI and run unchanged against this project's edx_ace
# (tests/compat/run_upstream.py). COMPAT_VERSIONS="1.15.0" for one version.
COMPAT_VERSIONS ?=
compat: venv
	$(BIN)/python tests/compat/run_upstream.py $(COMPAT_VERSIONS)

lint: venv
	$(BIN)/ruff check .

# A benchmark is any bench/*.py script with a __main__ block (bench/settings.py and helpers are not).
bench: venv
	@scripts="$$(grep -l '^if __name__ == .__main__.:' bench/*.py 2>/dev/null | sort)"; \
	[ -n "$$scripts" ] || { echo "No benchmarks in bench/ yet."; exit 0; }; \
	for script in $$scripts; do echo "== $$script"; $(BIN)/python $$script || exit $$?; done

worker: venv
	$(BIN)/celery -A config worker --loglevel INFO

beat: venv
	$(BIN)/celery -A config beat --loglevel INFO

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -not -path './.git/*' -prune -exec rm -rf {} +

clean-data:
	rm -rf var
