# thidua: `make rank` sets everything up and runs the sample campaign; `make test` runs the tests.
CAMPAIGN ?= sample_data/quang-tri-2025
WHAT ?= templates
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup test check templates mail collect validate status review rank bench sample master clean

# (Re)install when the venv is missing or pyproject.toml changed.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

test: $(STAMP)
	$(BIN)/pytest

check: $(STAMP)
	$(BIN)/thidua check $(CAMPAIGN)

templates: $(STAMP)
	$(BIN)/thidua templates $(CAMPAIGN)

# `make rank` writes the templates only when the covenant (or the code that writes them) changed since.
TEMPLATES_MADE := $(CAMPAIGN)/out/templates/.made
$(TEMPLATES_MADE): $(CAMPAIGN)/campaign.xlsx pipeline/templates.py pipeline/campaign.py $(STAMP)
	$(BIN)/thidua templates $(CAMPAIGN)
	touch $@

rank: $(TEMPLATES_MADE)
	$(BIN)/thidua collect $(CAMPAIGN)
	$(BIN)/thidua rank $(CAMPAIGN)

# Rebuild the committed sample campaign and the blank master from their scripts.
sample: $(STAMP)
	$(BIN)/python sample_data/build.py

master: $(STAMP)
	$(BIN)/python -m pipeline.campaign_book templates/xlsx/campaign.xlsx

clean:
	rm -rf $(CAMPAIGN)/out

# A dry run: the messages under out/outbox/$(WHAT)/; `thidua mail ... --send` sends them.
mail: $(STAMP)
	$(BIN)/thidua mail $(CAMPAIGN) --what $(WHAT)

collect: $(STAMP)
	$(BIN)/thidua collect $(CAMPAIGN)

validate: $(STAMP)
	$(BIN)/thidua validate $(CAMPAIGN)

status: $(STAMP)
	$(BIN)/thidua status $(CAMPAIGN)

review: $(STAMP)
	$(BIN)/thidua collect $(CAMPAIGN)
	$(BIN)/thidua review $(CAMPAIGN)

bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)
