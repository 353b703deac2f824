# kdbook: two commands do all the set-up (see README.md).
#   make book   build the site into _build/html
#   make test   run every test (kdmath, every notebook with nbval, the rendered site in Chromium)
#   make bench  run the benchmarks

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMPS := .stamps
# A CPU wheel of this torch lies on the development machines' disk; an unpinned torch would
# download several GB of CUDA packages instead.
TORCH_PIN := torch==2.13.0

.PHONY: book test bench setup clean

setup: $(STAMPS)/python $(STAMPS)/static

$(STAMPS)/venv:
	$(PYTHON) -m venv $(VENV)
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/python: $(STAMPS)/venv pyproject.toml requirements/lock.txt
	$(PIP) install --quiet "$(TORCH_PIN)"
	$(PIP) install --quiet -c requirements/lock.txt -e ".[book,test]"
	@touch $@

# MathJax from the npm registry, served by the book itself so that math renders offline.
$(STAMPS)/static: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	rm -rf _static_vendor && mkdir -p _static_vendor/mathjax
	cp -r node_modules/mathjax/es5/tex-chtml.js node_modules/mathjax/es5/input node_modules/mathjax/es5/output \
	      node_modules/mathjax/es5/a11y node_modules/mathjax/es5/ui node_modules/mathjax/es5/adaptors \
	      node_modules/mathjax/es5/sre _static_vendor/mathjax/
	@mkdir -p $(STAMPS) && touch $@

# Headless Chromium (Debian's package) for the test of the rendered site; the test skips
# with a message where it cannot be installed.
$(STAMPS)/chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	    || echo "warning: could not install chromium; the site test will be skipped"; \
	else echo "warning: chromium is not installed and cannot be installed here; the site test will be skipped"; fi
	@mkdir -p $(STAMPS) && touch $@

book: setup
	$(VENV)/bin/jupyter-book build . -W -n --keep-going
	@echo "The book is built: open $(CURDIR)/_build/html/index.html"

test: book $(STAMPS)/chromium
	$(PY) -m pytest tests notebooks --nbval --sanitize-with tests/sanitize.cfg -p no:cacheprovider

bench: setup
	$(PY) benchmarks/run.py

clean:
	rm -rf _build _static_vendor $(STAMPS) .pytest_cache .hypothesis
