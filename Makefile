# Two entry points do all set-up on a fresh machine: `make demo` and `make test`.
# Both are idempotent and incremental: stamps skip what did not change.
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
BUILD := build
CORE_SOURCES := $(shell find csrc tests/cpp -name '*.cc' -o -name '*.h') CMakeLists.txt pyproject.toml tools/build_paths.py tools/gen_structured_meta_table.py

.PHONY: demo test cpp-test py-test py-test-strict py-test-fused bench conformance format

demo: $(BUILD)/.installed
	$(VPY) examples/train_mlp.py

test: cpp-test py-test

cpp-test: $(BUILD)/.installed
	cd $(BUILD) && ../$(VENV)/bin/ctest --output-on-failure -j2

# The Python suite runs once per eager mode a user can pick for speed: strict
# (one program per op) and fused (one program per step).
py-test: py-test-strict py-test-fused

py-test-strict: $(BUILD)/.installed
	TORCH_PJRT_EAGER_MODE=strict $(VPY) -m pytest -q -n 2 tests/python

py-test-fused: $(BUILD)/.installed
	TORCH_PJRT_EAGER_MODE=fused $(VPY) -m pytest -q -n 2 tests/python

# GoogleTest comes from Debian (installed once, as root, where missing).
$(BUILD)/.gtest:
	@mkdir -p $(BUILD)
	@if [ ! -f /usr/include/gtest/gtest.h ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libgtest-dev >/dev/null; fi
	@touch $@

$(VENV)/.deps: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	@touch $@

# One build tree for the extension and the C++ tests; pip reuses it, so only
# changed files recompile.
$(BUILD)/.installed: $(VENV)/.deps $(BUILD)/.gtest $(CORE_SOURCES)
	$(VPY) -m pip install -q --disable-pip-version-check --no-build-isolation --no-deps \
	  -Ccmake.define.TORCH_PJRT_BUILD_TESTS=ON -Cbuild.verbose=false -e .
	@touch $@

# Benchmarks print tables; they are not part of `make test`.
bench: $(BUILD)/.installed
	$(VPY) -m pip install -q --disable-pip-version-check -r requirements-bench.txt
	$(VPY) benchmarks/eager_ops.py
	$(VPY) benchmarks/train_step.py
	$(VPY) benchmarks/step_parts.py

# The OpInfo sweep (about an hour on two cores): writes conformance/report.{md,json}.
conformance: $(BUILD)/.installed
	$(VPY) tests/conformance/run.py --out conformance

format:
	clang-format -i $$(find csrc tests/cpp -name '*.cc' -o -name '*.h')
