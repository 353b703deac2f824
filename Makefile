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

.PHONY: book test bench setup clean distclean

# The stamps live inside what they stand for, so that deleting .venv or _static_vendor by hand
# makes the next `make` set it up again; a second `make` with nothing deleted reinstalls nothing.
INSTALLED := $(VENV)/.kdbook-installed
MATHJAX := _static_vendor/mathjax/tex-chtml.js

setup: $(INSTALLED) $(MATHJAX)

$(VENV)/pyvenv.cfg:
	$(PYTHON) -m venv $(VENV)

# torch first and pinned; then kdmath with the book and test extras, at the locked versions.
$(INSTALLED): $(VENV)/pyvenv.cfg pyproject.toml requirements/lock.txt
	$(PIP) install --quiet "$(TORCH_PIN)"
	$(PIP) install --quiet -c requirements/lock.txt -e ".[book,test]"
	@touch $@

# MathJax from the npm registry, served by the book itself so that math renders offline.
$(MATHJAX): package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	rm -rf _static_vendor && mkdir -p _static_vendor/mathjax
	cp -r node_modules/mathjax/es5/tex-chtml.js node_modules/mathjax/es5/input node_modules/mathjax/es5/output \
	      node_modules/mathjax/es5/a11y node_modules/mathjax/es5/ui node_modules/mathjax/es5/adaptors \
	      node_modules/mathjax/es5/sre _static_vendor/mathjax/
	@touch $@

# Headless Chromium (Debian's package) for the test of the rendered site. Stamped only once it is
# there, so that a machine where it could not be installed tries again next time; the test skips
# with a message where it is missing.
$(STAMPS)/chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	    || echo "warning: could not install chromium; the site test will be skipped"; \
	else echo "warning: chromium is not installed and cannot be installed here; the site test will be skipped"; fi
	@if [ -x /usr/bin/chromium ]; then mkdir -p $(STAMPS) && touch $@; fi

book: setup
	$(VENV)/bin/jupyter-book build . -W -n --keep-going
	@echo "The book is built: open $(CURDIR)/_build/html/index.html"

test: book $(STAMPS)/chromium
	$(PY) -m pytest tests notebooks --nbval --nbval-sanitize-with tests/sanitize.cfg -p no:cacheprovider

bench: setup
	$(PY) benchmarks/run.py
	$(PY) benchmarks/fused.py
	@# and at the published comparison's size in bfloat16 where there is a GPU
	@if $(PY) -c "import sys, torch; sys.exit(not torch.cuda.is_available())"; then \
	  $(PY) benchmarks/fused.py --device cuda --out _build/benchmarks/fused-cuda.json; fi
	$(PY) benchmarks/trainer.py

# The build, the copied MathJax and the caches; the virtual environment stays.
clean:
	rm -rf _build _static_vendor $(STAMPS) .pytest_cache .hypothesis

# Everything `make` made, the virtual environment and node_modules included.
distclean: clean
	rm -rf $(VENV) node_modules kdmath.egg-info
