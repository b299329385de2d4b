# Two commands set everything up on a fresh machine: `make run` and `make test`.
# Both are idempotent: a second run reinstalls nothing and only does what changed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
SAMPLE_DIR := articles/fixtures/samples
DEMO_DIR := var/demo
DEMO_COUNT ?= 300

# Local runs are plain HTTP; the secret key is made once and kept under var/ (git ignores it).
RUN_ENV = DEBUG=0 HTTPS=0 ALLOWED_HOSTS=127.0.0.1,localhost CSRF_TRUSTED_ORIGINS=http://127.0.0.1:$(PORT),http://localhost:$(PORT) SECRET_KEY="$$(cat var/secret_key)"
TEST_ENV = DEBUG=1

.PHONY: run test lint bench bench-quick clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Stamp files: reinstall only when a requirements file changes.
$(VENV)/.installed: requirements.txt $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(VENV)/.installed $@

# Tools from npm (axe-core, the Nu Html Checker, Lighthouse), pinned in package-lock.json: reinstalled only when it changes.
node_modules/.installed: package.json package-lock.json
	scripts/ensure-test-tools
	touch $@

var/secret_key: | $(BIN)/python
	mkdir -p var
	$(BIN)/python -c "import secrets; print(secrets.token_urlsafe(50))" > $@
	chmod 600 $@

run: $(VENV)/.installed var/secret_key
	$(RUN_ENV) $(BIN)/python manage.py migrate --no-input
	$(RUN_ENV) $(BIN)/python manage.py collectstatic --no-input --verbosity 0
	$(RUN_ENV) $(BIN)/python manage.py load_demo --count $(DEMO_COUNT)
	$(RUN_ENV) $(BIN)/python manage.py ensure_admin
	@echo ""
	@echo "  Site:  http://127.0.0.1:$(PORT)/"
	@echo "  Admin: http://127.0.0.1:$(PORT)/admin/"
	@echo "  API:   http://127.0.0.1:$(PORT)/api/"
	@echo ""
	$(RUN_ENV) $(BIN)/gunicorn config.wsgi --bind 127.0.0.1:$(PORT) --workers 2 --access-logfile - --error-logfile -

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports

test: $(VENV)/.installed-dev
	mkdir -p var
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(TEST_ENV) $(BIN)/python manage.py check
	$(TEST_ENV) $(BIN)/python manage.py makemigrations --check --dry-run
	scripts/ensure-chromium
	$(MAKE) --no-print-directory node_modules/.installed
	$(TEST_ENV) $(BIN)/pytest $(PYTEST_ARGS)

BENCH_COUNT ?= 100000
BENCH_SHAPE ?= combination
BENCH_DB ?= kb_bench
# The parser is timed against the single module the parsing package replaced (within 5% of it).
PARSE_BASELINE ?= a27d33f
BENCH_HTTP_ARGS ?=
BENCH_MIXED_SECONDS ?= 60
BENCH_QUICK_COUNT ?= 5000
BENCH_QUICK_DB ?= kb_bench_quick
BENCH_QUICK_HTTP_ARGS ?= --requests 500 --warmup 50
BENCH_QUICK_MIXED_SECONDS ?= 20
# A quick run writes its results beside the committed ones of make bench, never over them.
BENCH_QUICK_RESULTS ?= bench/results/quick

# Benchmarks run on a fresh PostgreSQL database on 127.0.0.1:5432 (see bench/README.md): import,
# similar posts, HTTP under gunicorn (cached, uncached, and the mixed run), Lighthouse on the
# reader's pages, then latest.json and latest.md in the results directory.
bench: $(VENV)/.installed-dev node_modules/.installed
	scripts/ensure-chromium
	$(BIN)/python bench/bench_import.py --count $(BENCH_COUNT) --shape $(BENCH_SHAPE) --keep-db --database $(BENCH_DB) \
		--search-index-baseline
	$(BIN)/python bench/bench_similar.py --count $(BENCH_COUNT) --shape $(BENCH_SHAPE) --database $(BENCH_DB)
	$(BIN)/python bench/bench_http.py --database $(BENCH_DB) --shape $(BENCH_SHAPE) \
		--mixed-seconds $(BENCH_MIXED_SECONDS) $(BENCH_HTTP_ARGS)
	$(BIN)/python bench/bench_lighthouse.py --database $(BENCH_DB)
	$(BIN)/python bench/bench_parse.py --baseline $(PARSE_BASELINE)
	$(BIN)/python bench/report.py

bench-quick: export BENCH_RESULTS = $(BENCH_QUICK_RESULTS)
bench-quick: $(VENV)/.installed-dev node_modules/.installed
	scripts/ensure-chromium
	$(BIN)/python bench/bench_import.py --count $(BENCH_QUICK_COUNT) --shape $(BENCH_SHAPE) --keep-db \
		--database $(BENCH_QUICK_DB) --search-index-baseline
	$(BIN)/python bench/bench_similar.py --count $(BENCH_QUICK_COUNT) --shape $(BENCH_SHAPE) --database $(BENCH_QUICK_DB)
	$(BIN)/python bench/bench_http.py --database $(BENCH_QUICK_DB) --shape $(BENCH_SHAPE) \
		--mixed-seconds $(BENCH_QUICK_MIXED_SECONDS) $(BENCH_QUICK_HTTP_ARGS)
	$(BIN)/python bench/bench_lighthouse.py --database $(BENCH_QUICK_DB) --runs 1
	$(BIN)/python bench/bench_parse.py --count 500 --rounds 5 --out $(BENCH_QUICK_RESULTS)/parse.json
	$(BIN)/python bench/report.py

clean:
	rm -rf $(VENV) node_modules staticfiles test-output .pytest_cache

# Mutation testing (docs/testing.md): the parser's value rules and meta box, the read cache, its
# invalidation (articles/changes.py) and the workflow's rules in releases/services (review states,
# the publish and rollback blockers, version bumps, going live). mutmut copies the project to
# mutants/ and runs, for each mutant, the tests that reach the mutated function; settings in
# pyproject.toml ([tool.mutmut]). `$(BIN)/mutmut show NAME` prints a surviving mutant's change.
WORKFLOW_FUNCTIONS := bump_version _next_published_version published_revision _go_live _move_review_state \
	_project_pending _make_pending
MUTANTS ?= articles.parsing.values.* articles.parsing.meta.* articles.read_cache.* articles.changes.* \
	releases.services.rules.* $(foreach f,$(WORKFLOW_FUNCTIONS),releases.services*.x_$(f)__*)
# Pinned to one core: the similar-posts product then starts no thread pool, so mutants can fork
# from mutmut's process (a child forked after the pool started hangs).
MUTATION_PIN := $(shell command -v taskset >/dev/null 2>&1 && echo taskset -c 0)
MUTATION_CHILDREN ?= 1

.PHONY: mutation
mutation: $(VENV)/.installed-dev
	$(TEST_ENV) $(MUTATION_PIN) $(BIN)/mutmut run --max-children $(MUTATION_CHILDREN) $(foreach m,$(MUTANTS),'$(m)')
	$(BIN)/mutmut results
