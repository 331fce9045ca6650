# OpsConductor Desktop — the two set-up commands are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# test workers: the CPUs, at least 2 (much of the suite waits on subprocesses and
# servers) and at most 4 (each worker starts its own PostgreSQL and snmpsim)
WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); [ $$n -lt 2 ] && n=2; [ $$n -gt 4 ] && n=4; echo $$n)

.PHONY: run test lint bench package smoke clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/opsconductor gui

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -n $(WORKERS) --dist loadfile
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy opsconductor_desktop/domain opsconductor_desktop/drivers opsconductor_desktop/store opsconductor_desktop/runtime opsconductor_desktop/services
	$(VENV)/bin/lint-imports

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -s tests/bench -p no:randomly --override-ini addopts=

package: $(STAMP)
	$(PY) -m pip install --quiet -e '.[package]'
	$(VENV)/bin/pyinstaller --noconfirm --clean --distpath dist --workpath build/pyinstaller packaging/opsconductor.spec

clean:
	rm -rf build dist .mypy_cache .ruff_cache artifacts .venv-snmpsim
smoke: $(STAMP)
	bash packaging/smoke.sh
