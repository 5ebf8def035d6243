# lpj-report — everyday tasks. Run `make help` for the list; every target has a `##` comment.
#
#   make report               fresh clone → .venv, system packages, report/2002 (HTML, PDF, DOCX)
#   make test                 the same set-up plus the HTML checkers, then pytest (CI: .ci/run)
#   make report KOMMUNE=odense  build one municipality's edition
#   make report KOMMUNE=odense MANIFEST=fuld   the whole publication for one municipality
#
# The values you can set (WAVE, KOMMUNE, FORMATS, MANIFEST, PORT, DIFF_OLD, DIFF_NEW, PYTEST_ARGS,
# TEST_JOBS, VENV, PYTHON, LPJ, SOURCE_DATE_EPOCH) are checked below before anything runs.
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
FORMATS ?=
MANIFEST ?=
PORT    ?= 8000
DIFF_OLD ?= 2002
DIFF_NEW ?= 2005
PYTEST_ARGS ?=
TEST_JOBS ?= auto

# ---------------------------------------------------------------------------- the values a user sets
# No value can run anything. Each reaches a recipe only through the environment ("$$WAVE" in
# the shell, never pasted into the command text), so quotes, spaces and `;` stay text, and lpj
# checks it (a known wave, a codebook municipality, a port number, …). Before that, make itself
# must not expand it: a value given on the command line or in the environment is recursively
# expanded where it is referenced (`$(shell …)` inside it would run), so one with a `$` is
# refused here, read with $(value …), which does not expand. A value given but blank is
# refused too (`KOMMUNE=` would otherwise build the annual report); WAVE must be a plain year,
# since it also names the folder report/<wave> that `make clean` removes.
USER_VARS := WAVE KOMMUNE FORMATS MANIFEST PORT DIFF_OLD DIFF_NEW PYTEST_ARGS TEST_JOBS VENV PYTHON LPJ \
             SOURCE_DATE_EPOCH
NONBLANK_VARS := WAVE KOMMUNE FORMATS MANIFEST PORT DIFF_OLD DIFF_NEW TEST_JOBS VENV PYTHON LPJ
# the programs and folders make itself names (targets, commands): plain path characters only
PATH_VARS := VENV PYTHON LPJ
PATH_CHARS := a b c d e f g h i j k l m n o p q r s t u v w x y z \
              A B C D E F G H I J K L M N O P Q R S T U V W X Y Z 0 1 2 3 4 5 6 7 8 9 . _ / + -
DIGITS := 0 1 2 3 4 5 6 7 8 9

given = $(or $(findstring command line,$(origin $(1))),$(findstring environment,$(origin $(1))))
# without_chars TEXT,CHARS: TEXT with every one of CHARS removed
without_chars = $(if $(2),$(call without_chars,$(subst $(firstword $(2)),,$(1)),$(wordlist 2,$(words $(2)),$(2))),$(1))
# digit_shape TEXT: TEXT with every digit turned into 0 (a year gives 0000)
digit_shape = $(call replace_chars,$(1),$(DIGITS),0)
replace_chars = $(if $(2),$(call replace_chars,$(subst $(firstword $(2)),$(3),$(1)),$(wordlist 2,$(words $(2)),$(2)),$(3)),$(1))

# any other variable is the Makefile's own (KOMMUNE_ARG, STAMP, SHELL, …): never set from outside
empty :=
space := $(empty) $(empty)
OTHER_GIVEN := $(filter-out $(USER_VARS) MAKEFLAGS MAKEOVERRIDES,$(foreach v,$(.VARIABLES),\
  $(if $(filter command_line,$(subst $(space),_,$(origin $(v)))),$(v))))
ifneq ($(OTHER_GIVEN),)
$(error $(firstword $(OTHER_GIVEN)) cannot be set; the values you can set: $(USER_VARS))
endif
$(foreach v,$(USER_VARS),$(if $(call given,$(v)),$(if $(findstring $$,$(value $(v))),\
  $(error $(v)='$(value $(v))': a value with '$$' is refused, since make would expand it; expected plain text))))
$(foreach v,$(NONBLANK_VARS),$(if $(findstring command line,$(origin $(v))),$(if $(strip $(value $(v))),,\
  $(error $(v)='$(value $(v))' is blank; leave it out or give a value))))
$(foreach v,$(PATH_VARS),$(if $(call given,$(v)),$(if $(call without_chars,$(value $(v)),$(PATH_CHARS)),\
  $(error $(v)='$(value $(v))': expected a path of letters, digits and . _ / + -))))
ifneq ($(call digit_shape,$(value WAVE)),0000)
$(error WAVE='$(value WAVE)': expected a survey year of four digits, e.g. WAVE=2002 (the folders in data/waves))
endif

export WAVE KOMMUNE FORMATS MANIFEST PORT DIFF_OLD DIFF_NEW PYTEST_ARGS TEST_JOBS
# options for lpj, the value bound with `=` so that one starting with `-` stays a value
KOMMUNE_ARG := $(if $(KOMMUNE),--kommune="$$KOMMUNE")
FORMATS_ARG := $(if $(FORMATS),--formats="$$FORMATS")
# the kind of edition (templates/editions/manifest.yaml: kort, fuld), with KOMMUNE
MANIFEST_ARG := $(if $(MANIFEST),--manifest="$$MANIFEST")

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
	@echo "usage: make TARGET [WAVE=$(WAVE)] [KOMMUNE=<key>] [FORMATS=html,pdf,docx]"
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_.-]+:.*## / {printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

venv: $(STAMP) ## Create .venv and install the project with its dev tools

# The pinned packages go in with uv (its version pinned in constraints.txt too): on a fresh clone
# it installs them in about a third of pip's time, bytecode compiled as pip does (without it every
# process compiles pandas, matplotlib, … again when PYTHONDONTWRITEBYTECODE is set). When uv
# cannot be installed (no PyPI, no wheel for the platform), pip installs the same pins.
$(STAMP): pyproject.toml constraints.txt
	@python3 -c 'import ensurepip, venv' 2>/dev/null || { $(call apt_install,python3-venv); }
	python3 -m venv $(VENV)
	if $(VENV)/bin/pip install -q -c constraints.txt uv; then \
	  $(VENV)/bin/uv pip install --python $(VENV)/bin/python --compile-bytecode \
	    -c constraints.txt -e '.[dev]'; \
	else \
	  echo "uv could not be installed: installing with pip"; \
	  $(VENV)/bin/pip install -c constraints.txt -e '.[dev]'; \
	fi
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
	set -f; $(PYTHON) -m pytest -n "$$TEST_JOBS" --dist loadfile $$PYTEST_ARGS

check-html: report htmldeps ## Check report/<wave>'s HTML with vnu and axe-core (WCAG 2.1 AA)
	$(PYTHON) tests/html_checks.py $(REPORT_HTML)

lint: $(STAMP) ## Check the code with ruff
	$(VENV)/bin/ruff check .

report: $(STAMP) sysdeps ## Build the report (HTML, PDF, DOCX) into report/<wave>; KOMMUNE=<key> for one edition
	$(LPJ) build --wave="$$WAVE" --out="report/$$WAVE" $(KOMMUNE_ARG) $(MANIFEST_ARG) $(FORMATS_ARG)

preview: $(STAMP) ## The HTML on localhost, rebuilt on every save (KOMMUNE=<key>, PORT=8000)
	$(LPJ) preview --wave="$$WAVE" --port="$$PORT" $(KOMMUNE_ARG) $(MANIFEST_ARG)

editions: $(STAMP) sysdeps ## Build every municipality's edition in parallel into report/<wave>/kommuner
	$(LPJ) editions --wave="$$WAVE" --out="report/$$WAVE" $(MANIFEST_ARG) $(FORMATS_ARG)

diff: $(STAMP) ## Compare two waves (or builds' figures.json) into report/diff/<old>-<new> (DIFF_OLD=2002 DIFF_NEW=2005)
	$(LPJ) diff -- "$$DIFF_OLD" "$$DIFF_NEW"

verify: $(STAMP) ## Compare the published numbers with the recomputed ones
	$(LPJ) verify --wave="$$WAVE"

generate: $(STAMP) ## Regenerate the reconstructed respondent data of the wave
	$(LPJ) generate --wave="$$WAVE"

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
	rm -rf "report/$$WAVE" build .cache .pytest_cache .ruff_cache .hypothesis tests/golden/*.actual
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean ## Also remove .venv
	rm -rf $(VENV)
