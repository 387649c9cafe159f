# Shuyu (数域). `make demo` and `make test` each set up .venv themselves on a fresh machine.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' && echo $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Spark's classes, parsed once for every driver JVM (sandbox/engines/class_archive.py)
CLASS_ARCHIVE := $(VENV)/shuyu-spark-classes.jsa

export SPARK_LOCAL_IP ?= 127.0.0.1

.PHONY: demo test test-fast bench lint clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "需要 Python ≥ 3.11 / Python >= 3.11 is required"; exit 1; }
	@command -v java >/dev/null 2>&1 || { echo "需要 Java 17+（Spark）/ Java 17+ is required for Spark"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

# bubblewrap jails the job process (sandbox/runtime/jail.py); Debian's package, installed once
JAIL_STAMP := $(VENV)/.jail-stamp
$(JAIL_STAMP): $(STAMP)
	@command -v bwrap >/dev/null 2>&1 || { \
	  command -v apt-get >/dev/null 2>&1 || { echo "需要 bubblewrap（bwrap）/ bubblewrap (bwrap) is required"; exit 1; }; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap; }
	touch $(JAIL_STAMP)

$(CLASS_ARCHIVE): $(STAMP)
	$(BIN)/python -m sandbox.engines.class_archive

# Debian's Chromium and a Chinese font for the report-rendering test (Playwright never downloads a browser)
BROWSER_STAMP := $(VENV)/.browser-stamp
$(BROWSER_STAMP): $(STAMP)
	@{ test -x /usr/bin/chromium && fc-list :lang=zh | grep -q . ; } || { \
	  command -v apt-get >/dev/null 2>&1 || { echo "需要 Chromium 与中文字体 / chromium and a CJK font are required"; exit 1; }; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei; }
	touch $(BROWSER_STAMP)

# Where a docker CLI is installed without Compose, Debian's docker-compose, so that the test of
# deploy/compose.yaml (tests/deploy) can have Compose itself read the file
COMPOSE_STAMP := $(VENV)/.compose-stamp
$(COMPOSE_STAMP): $(STAMP)
	@if command -v docker >/dev/null 2>&1 && ! docker compose version >/dev/null 2>&1 \
	    && ! command -v docker-compose >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose; fi
	touch $(COMPOSE_STAMP)

demo: $(STAMP) $(CLASS_ARCHIVE) $(JAIL_STAMP)
	$(BIN)/sandbox demo

test: $(STAMP) $(CLASS_ARCHIVE) $(BROWSER_STAMP) $(JAIL_STAMP) $(COMPOSE_STAMP)
	$(BIN)/pytest

test-fast: $(STAMP) $(CLASS_ARCHIVE) $(JAIL_STAMP)
	$(BIN)/pytest -m "not slow"

bench: $(STAMP) $(CLASS_ARCHIVE) $(JAIL_STAMP)
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

lint: $(STAMP)
	$(BIN)/ruff check sandbox tests bench
	$(BIN)/ruff format --check sandbox tests bench

clean:
	rm -rf $(VENV) .pytest_cache
