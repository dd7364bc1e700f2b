# Two commands do all the set-up on a fresh machine with Python >= 3.11 and pip:
#   make run   -> creates .venv, installs, runs the evaluation on the embedded synthetic database
#   make test  -> creates .venv, installs with the test extras, runs the whole test suite
# Both install the exact versions in constraints.txt (resolved from pyproject.toml's ranges by
# `make lock`), so they give the same stack on every machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint docs lock browser toolchain clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[tensorflow-cpu,test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/ecg-energy run --device stm32u575 --device efr32mg24

test: $(STAMP)
	$(BIN)/python -m pytest -q

# Chromium from the distribution's packages for the report.html browser test (Playwright drives it;
# no browser is downloaded). Best effort: without root or apt the test skips and says why.
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq chromium) || echo "no chromium: the browser test will skip"

# the documentation site into site/ (offline; --strict: a broken link or a warning fails it)
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

# constraints.txt from pyproject.toml's ranges, around the verified pins of constraints.in,
# for every platform on Python >= 3.11
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra tensorflow-cpu --extra test --extra docs \
		--extra sweep --extra torch --universal --python-version 3.11 -c constraints.in \
		-o constraints.txt

# The Arm GNU toolchain and QEMU for `ecg-energy device --method emulated` (TFLM built for the
# Cortex-M core and run on QEMU's MPS2 boards). Best effort: without them the tests skip.
toolchain:
	@command -v arm-none-eabi-g++ >/dev/null && command -v qemu-system-arm >/dev/null || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib \
		qemu-system-arm make gcc patch) || echo "no Arm toolchain: the emulated-device tests will skip"

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts

clean:
	rm -rf $(VENV) runs site .pytest_cache
