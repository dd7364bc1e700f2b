# Two commands do all the set-up on a fresh machine with Python >= 3.10 and pip:
#   make run   -> creates .venv, installs, runs the evaluation on the embedded synthetic database
#   make test  -> creates .venv, installs with the test extras, runs the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint browser toolchain clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
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
	rm -rf $(VENV) runs .pytest_cache
