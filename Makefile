# lpj-report — everyday tasks. Run `make help` for the list; every target has a `##` comment.
#
#   make test                 set up .venv (first time / when pyproject.toml changes) and run pytest
#   make report KOMMUNE=odense  build one municipality's edition
#
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    ?= .venv
PYTHON  ?= $(VENV)/bin/python
LPJ     ?= $(VENV)/bin/lpj
STAMP   := $(VENV)/.installed
WAVE    ?= 2002
KOMMUNE ?=
PYTEST_ARGS ?=
KOMMUNE_ARG := $(if $(KOMMUNE),--kommune $(KOMMUNE))

# `make sysdeps` checks the Debian/Ubuntu packages behind WeasyPrint (pango, harfbuzz
# subsetting) and the PDF checks (qpdf, poppler's pdftotext/pdfinfo, rsvg-convert).
# Fonts ship with the project.

.PHONY: help venv sysdeps test lint report verify generate bench golden-accept clean distclean

help: ## List the targets
	@echo "usage: make TARGET [WAVE=$(WAVE)] [KOMMUNE=<key>]"
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_.-]+:.*## / {printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

venv: $(STAMP) ## Create .venv and install the project with its dev tools

$(STAMP): pyproject.toml
	python3 -m venv $(VENV) && $(VENV)/bin/pip install -e '.[dev]'
	touch $@

sysdeps: ## Check the system libraries for PDF output; install them with apt-get when root
	@missing=""; \
	have_lib() { ldconfig -p 2>/dev/null | grep -q "$$1"; }; \
	have_lib 'libpango-1.0.so.0 ' || missing="$$missing libpango-1.0-0"; \
	have_lib 'libpangoft2-1.0.so.0 ' || missing="$$missing libpangoft2-1.0-0"; \
	have_lib 'libharfbuzz-subset.so.0 ' || missing="$$missing libharfbuzz-subset0"; \
	command -v qpdf >/dev/null || missing="$$missing qpdf"; \
	command -v pdftotext >/dev/null || missing="$$missing poppler-utils"; \
	command -v rsvg-convert >/dev/null || missing="$$missing librsvg2-bin"; \
	if [ -z "$$missing" ]; then echo "system libraries: ok"; exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing system packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq --no-install-recommends $$missing; \
	else \
	  echo "missing system packages:$$missing"; \
	  echo "install them with: sudo apt-get install$$missing"; exit 1; \
	fi

test: $(STAMP) ## Run the test suite (pytest; extra options in PYTEST_ARGS)
	@$(MAKE) --no-print-directory sysdeps || echo "warning: PDF tests need the packages above"
	$(PYTHON) -m pytest $(PYTEST_ARGS)

lint: $(STAMP) ## Check the code with ruff
	$(VENV)/bin/ruff check .

report: $(STAMP) sysdeps ## Build the report (HTML, PDF, DOCX) into report/<wave>; KOMMUNE=<key> for one edition
	$(LPJ) build --wave $(WAVE) --out report/$(WAVE) $(KOMMUNE_ARG)

verify: $(STAMP) ## Compare the published numbers with the recomputed ones
	$(LPJ) verify --wave $(WAVE)

generate: $(STAMP) ## Regenerate the reconstructed respondent data of the wave
	$(LPJ) generate --wave $(WAVE)

bench: $(STAMP) ## Run the benchmarks (bench/run.py when present, else `lpj bench`)
	@if [ -f bench/run.py ]; then $(PYTHON) bench/run.py; \
	elif $(LPJ) bench --help >/dev/null 2>&1; then $(LPJ) bench; \
	else echo "no benchmarks yet: add bench/run.py"; fi

golden-accept: $(STAMP) ## Accept the current output as the new golden files
	$(PYTHON) -m tests.golden accept

clean: ## Remove build output and caches (keeps .venv and data)
	rm -rf report/$(WAVE) build .pytest_cache .ruff_cache .hypothesis tests/golden/*.actual
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean ## Also remove .venv
	rm -rf $(VENV)
