# The two commands: `make lab` opens the course, `make test` runs every test.
# Both create .venv on first use (Python 3.11+ and make are all a machine needs).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: lab test bench setup check-notebooks clean

# JupyterLab refuses to run as root unless told; containers and CI machines often are root.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

# The file browser shows the whole course (notebooks/, exercises/ to edit, solutions/); it opens
# on the welcome notebook. Kernels start in notebooks/, where each notebook lives.
lab: $(STAMP)
	$(VENV)/bin/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=. $(ALLOW_ROOT) notebooks/00_welcome.ipynb

test: $(STAMP)
	$(MAKE) --no-print-directory check-notebooks
	$(PY) -m pytest tests notebooks --nbval-lax --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

bench: $(STAMP)
	$(PY) bench/throughput.py
	$(PY) bench/cluster.py
	$(PY) bench/checker.py
	$(PY) bench/aerospike_client.py
	$(PY) bench/transactions.py

setup: $(STAMP)

# Notebooks are committed stripped of outputs except golden cells (keep_output: true).
check-notebooks: $(STAMP)
	@$(VENV)/bin/nbstripout --verify --keep-count notebooks/*.ipynb || \
	  (echo "A notebook has outputs that nbstripout would remove: run '$(VENV)/bin/nbstripout --keep-count notebooks/*.ipynb'" && exit 1)

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "minikv needs Python 3.11 or newer"'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet -e .
	touch $(STAMP)

clean:
	rm -rf $(VENV) *.egg-info
