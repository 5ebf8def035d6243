# lpj-report — everyday tasks. Run `make help` for the list; every target has a `##` comment.
#
#   make report               fresh clone → .venv, system packages, report/2002 (HTML, PDF, DOCX)
#   make test                 the same set-up plus the HTML checkers, then pytest (CI: .ci/run)
#   make report KOMMUNE=odense  build one municipality's edition
#
# System packages, test commands and timings: docs/quality.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Reproducible builds: the dates inside the report come from SOURCE_DATE_EPOCH, by default the
# time of the last commit (never the clock), so the same commit gives the same bytes.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null)
ifneq ($(strip $(SOURCE_DATE_EPOCH)),)
export SOURCE_DATE_EPOCH
endif

VENV    ?= .venv
PYTHON  ?= $(VENV)/bin/python
LPJ     ?= $(VENV)/bin/lpj
STAMP   := $(VENV)/.installed
WAVE    ?= 2002
KOMMUNE ?=
PYTEST_ARGS ?=
TEST_JOBS ?= auto
# The name reaches lpj through the environment, never through the shell's parser, so that
# no name (quotes, spaces, `;`) can run anything; lpj accepts only the codebook's municipalities.
export KOMMUNE
KOMMUNE_ARG := $(if $(KOMMUNE),--kommune "$$KOMMUNE")
# lpj preview's port, through the environment like KOMMUNE (lpj checks it is a number)
PORT    ?= 8000
export PORT
DIFF_OLD ?= 2002
DIFF_NEW ?= 2005

# `make sysdeps` checks the Debian/Ubuntu packages behind WeasyPrint (pango, harfbuzz
# subsetting), the PDF checks (qpdf, poppler's pdftotext/pdfinfo/pdffonts) and the DOCX charts
# (rsvg-convert), and installs the missing ones with apt-get when root. Fonts ship with the project.
# `make htmldeps` does the same for the HTML checks: Debian's chromium, Java (vnu), node/npm, and
# `npm ci` for node_modules (vnu-jar, axe-core, playwright-core: package-lock.json).
# `make officedeps` does it for the Word checks: LibreOffice Writer without a GUI (soffice), which
# converts the DOCX to PDF as a word processor lays it out (tests/test_handover.py).
NODE_STAMP := node_modules/.lpj-installed
REPORT_HTML := report/$(WAVE)/laering-paa-jobbet.html

.PHONY: help venv sysdeps htmldeps officedeps test check-html lint report verify generate bench \
        golden-accept clean distclean editions diff preview

help: ## List the targets
	@echo "usage: make TARGET [WAVE=$(WAVE)] [KOMMUNE=<key>]"
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_.-]+:.*## / {printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

venv: $(STAMP) ## Create .venv and install the project with its dev tools

$(STAMP): pyproject.toml constraints.txt
	@python3 -c 'import ensurepip, venv' 2>/dev/null || { $(call apt_install,python3-venv); }
	python3 -m venv $(VENV) && $(VENV)/bin/pip install -c constraints.txt -e '.[dev]'
	touch $@

# apt_install PACKAGES…: install with apt-get when root, else say what to install and fail.
define apt_install
if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
  echo "installing system packages: $(1)"; \
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq $(1); \
else \
  echo "missing system packages: $(1)"; \
  echo "install them with: sudo apt-get install -y $(1)"; exit 1; \
fi
endef

sysdeps: ## Check the system packages for PDF and DOCX; apt-get install them when root
	@missing=""; \
	have_lib() { ldconfig -p 2>/dev/null | grep -q "$$1"; }; \
	have_lib 'libpango-1.0.so.0 ' || missing="$$missing libpango-1.0-0"; \
	have_lib 'libpangoft2-1.0.so.0 ' || missing="$$missing libpangoft2-1.0-0"; \
	have_lib 'libharfbuzz-subset.so.0 ' || missing="$$missing libharfbuzz-subset0"; \
	command -v qpdf >/dev/null || missing="$$missing qpdf"; \
	command -v pdftotext >/dev/null || missing="$$missing poppler-utils"; \
	command -v rsvg-convert >/dev/null || missing="$$missing librsvg2-bin"; \
	have_lib 'librsvg-2.so.2 ' || missing="$$missing librsvg2-2"; \
	if [ -z "$$missing" ]; then echo "system packages: ok"; exit 0; fi; \
	$(call apt_install,$$missing)

htmldeps: ## Install the HTML checkers when missing: chromium, Java, node/npm (apt), npm ci
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v java >/dev/null || missing="$$missing default-jre-headless"; \
	command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	if [ -z "$$missing" ]; then echo "HTML checkers (chromium, java, npm): ok"; exit 0; fi; \
	$(call apt_install,$$missing)
	@$(MAKE) --no-print-directory $(NODE_STAMP)

officedeps: ## Install LibreOffice Writer (headless) for the Word checks when missing
	@if command -v soffice >/dev/null; then echo "Word checker (soffice): ok"; exit 0; fi; \
	$(call apt_install,--no-install-recommends libreoffice-writer-nogui)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

test: $(STAMP) ## Run the test suite (pytest; extra options in PYTEST_ARGS)
	@$(MAKE) --no-print-directory sysdeps || echo "warning: the PDF tests need the packages above"
	@$(MAKE) --no-print-directory htmldeps || echo "warning: HTML checks need the tools above"
	@$(MAKE) --no-print-directory officedeps || echo "warning: Word checks need the tool above"
	$(PYTHON) -m pytest -n "$(TEST_JOBS)" --dist loadfile $(PYTEST_ARGS)

check-html: report htmldeps ## Check report/<wave>'s HTML with vnu and axe-core (WCAG 2.1 AA)
	$(PYTHON) tests/html_checks.py $(REPORT_HTML)

lint: $(STAMP) ## Check the code with ruff
	$(VENV)/bin/ruff check .

report: $(STAMP) sysdeps ## Build the report (HTML, PDF, DOCX) into report/<wave>; KOMMUNE=<key> for one edition
	$(LPJ) build --wave $(WAVE) --out report/$(WAVE) $(KOMMUNE_ARG)

preview: $(STAMP) ## The HTML on localhost, rebuilt on every save (KOMMUNE=<key>, PORT=8000)
	$(LPJ) preview --wave $(WAVE) --port "$$PORT" $(KOMMUNE_ARG)

editions: $(STAMP) sysdeps ## Build every municipality's edition in parallel into report/<wave>/kommuner
	$(LPJ) editions --wave $(WAVE) --out report/$(WAVE)

diff: $(STAMP) ## Compare two waves into report/diff/<old>-<new> (DIFF_OLD=2002 DIFF_NEW=2005)
	$(LPJ) diff $(DIFF_OLD) $(DIFF_NEW) --out report/diff/$(DIFF_OLD)-$(DIFF_NEW)

verify: $(STAMP) ## Compare the published numbers with the recomputed ones
	$(LPJ) verify --wave $(WAVE)

generate: $(STAMP) ## Regenerate the reconstructed respondent data of the wave
	$(LPJ) generate --wave $(WAVE)

BENCH_STAMP := $(VENV)/.bench-installed
$(BENCH_STAMP): $(STAMP)
	$(VENV)/bin/pip install -q -c constraints.txt -e '.[dev,bench]'
	touch $@

bench: $(STAMP) $(BENCH_STAMP) sysdeps ## Run the benchmarks (every bench/*.py; installs the `bench` extra, DuckDB)
	@if [ -f bench/run.py ]; then $(PYTHON) bench/run.py; \
	elif $(LPJ) bench --help >/dev/null 2>&1; then $(LPJ) bench; \
	else echo "no benchmarks yet: add bench/run.py"; fi

golden-accept: $(STAMP) ## Accept the current output as the new golden files
	$(PYTHON) -m tests.golden accept

clean: ## Remove build output and caches (keeps .venv and data)
	rm -rf report/$(WAVE) build .cache .pytest_cache .ruff_cache .hypothesis tests/golden/*.actual
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean ## Also remove .venv
	rm -rf $(VENV)
