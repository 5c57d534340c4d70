# Lối Về. Two commands do everything on a fresh machine:
#   make run    install both environments, compile catalogs, train if needed, start
#   make test   the same installs, then the whole test suite (SQLite and PostgreSQL),
#               then the clock-sensitive tests again at three other instants
#   make test-fast   every test that needs neither Rasa nor the running product
SHELL := /bin/bash
.DEFAULT_GOAL := help
PY ?= python3
UV := $(shell command -v uv 2>/dev/null || echo "$(PY) -m uv")
APP_PY := .venv/bin/python
RASA_PY := .venv-rasa/bin/python
# PostgreSQL for the second test pass; CI=true makes it mandatory.
TEST_DATABASE_URL ?= postgresql://root@127.0.0.1:5432/test
PYTEST := $(APP_PY) -m pytest -p no:cacheprovider
PG_UP = [ "$$CI" = "true" ] || $(APP_PY) -c "import psycopg; psycopg.connect('$(TEST_DATABASE_URL)', connect_timeout=3).close()" 2>/dev/null
# Tests whose outcome depends on the hour or the date (quiet hours, windows,
# deadlines, leases, expiry, retention, digests, milestones): `make test` runs
# them again with the whole test process, and every Python child it starts,
# moved to each of these instants (time-machine; see tests/conftest.py).
# Late at night at a year's end; a minute before quiet hours end on a leap day
# more than a year ahead; just past midnight after a February without a 29th.
CLOCK_SENSITIVE := tests/db/test_ladder.py tests/db/test_outbox.py tests/db/test_dispatch_concurrency.py \
	tests/product/test_zalo_oa.py tests/db/test_chat_reminders.py tests/db/test_enrollment.py tests/db/test_checkins.py \
	tests/unit/test_schedule.py tests/db/test_erasure.py tests/unit/test_clock.py \
	tests/db/test_crisis.py tests/product/test_crisis_e2e.py \
	tests/db/test_relay.py tests/product/test_relay_e2e.py tests/product/test_reminders_e2e.py
SHIFTED_CLOCKS := 2026-12-31T22:30:00+07:00 2028-02-29T06:59:00+07:00 2029-03-01T00:00:30+07:00

.PHONY: help run test test-fast install catalogs extract lock bench train eval-nlu clean browser

help:
	@echo "make run    start Lối Về (web chat on http://127.0.0.1:8000/)"
	@echo "make test   run all tests (SQLite, then PostgreSQL, then clock-shifted passes)"
	@echo "make test-fast  tests that need neither Rasa nor the running product (< 1 min)"
	@echo "make bench  latency, start-up and memory numbers (bench/latency.py)"
	@echo "make eval-nlu  held-out NLU evaluation (reports/heldout*.md)"
	@echo "make lock   re-resolve requirements/*.lock;  make extract  refresh catalogs"

run: install catalogs
	$(APP_PY) -m bot run

# Every pass runs on xdist workers: the tests that need no stack on four (most of their
# time is waiting on rate limits and subprocesses), the stack tests on two, a file per
# worker, each worker with its own running product, databases and ports. The model is
# trained first, once: each worker would otherwise train its own. On 2 cores the stack
# tests of the SQLite pass took 8.6 min on two workers (2026-12-02), one clock-shifted
# pass 2.6 min against 4.3 min on one; CI had reached 82 of its 90 minutes.
STACK_WORKERS := -n 2 --dist loadfile
FAST_WORKERS := -n 4 --dist worksteal
test: install catalogs browser
	$(APP_PY) -m bot train
	$(PYTEST) $(FAST_WORKERS) -m "not stack" tests
	$(PYTEST) $(STACK_WORKERS) -m stack tests
	@if $(PG_UP); then \
	  echo "== PostgreSQL pass ($(TEST_DATABASE_URL)) =="; \
	  export LOIVE_TEST_DATABASE_URL=$(TEST_DATABASE_URL); \
	  $(PYTEST) $(FAST_WORKERS) -m "postgres and not stack" tests && \
	  $(PYTEST) $(STACK_WORKERS) -m "stack and (postgres or not language)" tests || exit 1; \
	else echo "== PostgreSQL not reachable at $(TEST_DATABASE_URL): PostgreSQL pass skipped =="; fi
	@pg=""; if $(PG_UP); then pg="$(TEST_DATABASE_URL)"; fi; \
	for at in $(SHIFTED_CLOCKS); do \
	  echo "== clock-sensitive tests with the clock at $$at =="; \
	  LOIVE_TEST_DATABASE_URL=$$pg $(PYTEST) $(STACK_WORKERS) --clock-at=$$at $(CLOCK_SENSITIVE) || exit 1; \
	done

# The fast loop: no trained model, no Rasa, no running product (SQLite; PostgreSQL
# too when LOIVE_TEST_DATABASE_URL is set). Four workers on two cores, stealing
# work from each other: most of its time is waiting on rate limits and
# subprocesses (56 s against 83 s with two workers, measured on an idle machine).
test-fast: .venv/.installed catalogs
	$(PYTEST) -m "not stack" $(FAST_WORKERS) tests

bench: install catalogs
	$(APP_PY) bench/latency.py
	@if $(APP_PY) -c "import psycopg; psycopg.connect('$(TEST_DATABASE_URL)', connect_timeout=3).close()" 2>/dev/null; \
	then $(APP_PY) bench/delivery.py --db both --pg-url $(TEST_DATABASE_URL); else $(APP_PY) bench/delivery.py --db sqlite; fi

train: install
	$(APP_PY) -m bot train

# Held-out NLU evaluation: per-slice accuracy/macro-F1, entities, confusions,
# calibration, 3-fold CV; writes reports/heldout.md (+ _confusion.png). The
# fresh set (never looked at while tuning) goes to reports/heldout_fresh.md; the
# question-level held-out set (tests/nlu/questions_heldout) to reports/questions_heldout.md.
eval-nlu: train
	PYTHONPATH=. RASA_TELEMETRY_ENABLED=false $(RASA_PY) -m nlu.evaluate
	PYTHONPATH=. RASA_TELEMETRY_ENABLED=false $(RASA_PY) -m nlu.evaluate --heldout tests/nlu/heldout_fresh.yml --cv 0
	PYTHONPATH=. RASA_TELEMETRY_ENABLED=false $(RASA_PY) -m nlu.evaluate_questions

install: .venv/.installed .venv-rasa/.installed

# The browser tests (tests/product/browser.py) drive Debian's Chromium through Playwright,
# which never downloads a browser of its own; the scale-out stack test
# (tests/product/test_scale_stack.py) runs Debian's nginx with deploy/nginx.conf as
# a foreground process of its own: install the packages when missing (CI runs as
# root; elsewhere through sudo). The nginx package's own service is not used.
CHROMIUM := /usr/bin/chromium
NGINX := /usr/sbin/nginx
browser:
	@[ -x $(CHROMIUM) ] && [ -x $(NGINX) ] || { s=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$s apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$s apt-get install -y -qq chromium nginx; }

.PHONY: .uv-ok
.uv-ok:
	@command -v uv >/dev/null 2>&1 || $(PY) -m uv --version >/dev/null 2>&1 || $(PY) -m pip install --quiet uv

.venv/.installed: requirements/app.lock pyproject.toml | .uv-ok
	[ -x $(APP_PY) ] || $(UV) venv --quiet --python $(PY) .venv
	$(UV) pip install --quiet --python $(APP_PY) --compile-bytecode -r requirements/app.lock
	$(UV) pip install --quiet --python $(APP_PY) --no-deps -e .
	touch $@

# Rasa 3.6 declares Python <3.11; the lock was resolved for 3.10 and is installed
# on 3.11 with --no-deps (tested; see README "Rasa environment").
.venv-rasa/.installed: requirements/rasa.lock | .uv-ok
	[ -x $(RASA_PY) ] || $(UV) venv --quiet --python $(PY) .venv-rasa
	$(UV) pip install --quiet --python $(RASA_PY) --no-deps --compile-bytecode -r requirements/rasa.lock
	touch $@

catalogs: .venv/.installed
	@.venv/bin/pybabel compile --use-fuzzy -d bot/locale -D messages --statistics 2>&1 | grep -v "^compiling" || true

extract: .venv/.installed
	.venv/bin/pybabel extract -F babel.cfg -k N_ -k NP_:1c,2 -k said_of:1 --no-location --sort-output --project=loive -o bot/locale/messages.pot .
	.venv/bin/pybabel update -i bot/locale/messages.pot -d bot/locale -D messages --no-fuzzy-matching

lock: | .uv-ok
	scripts/lock-app.sh
	scripts/lock-rasa.sh

clean:
	rm -rf var models .rasa reports
