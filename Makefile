# The two commands a newcomer needs:
#   make run    build and start omnihost on http://127.0.0.1:8091 with the embedded demo recipe
#   make test   build and run every test (unit, integration, parity, browser)
# Both install missing Debian packages first (scripts/bootstrap.sh).
# Hardening checks (not part of `make test`):
#   make fuzz   build the libFuzzer targets (clang, build-fuzz/) and run each FUZZ_SECONDS seconds
#   make asan   build the host, plugins and parsers with ASan+UBSan (build-asan/) and run their tests

BUILD   ?= build
TYPE    ?= Release
JOBS    ?= $(shell nproc)
CMAKE_FLAGS ?=
FUZZ_SECONDS ?= 60

.PHONY: all deps deps-test configure build run test test-native test-web bench fuzz asan clean

all: build

deps:
	@scripts/bootstrap.sh build

deps-test:
	@scripts/bootstrap.sh test

# TORCH=pip: build against the torch pip wheel in TORCH_VENV (made by scripts/setup_torch_venv.sh
# with TORCH_VENV_FLAGS, e.g. --cpu-only) instead of Debian's libtorch, in build-pip unless BUILD is given.
TORCH ?= system
TORCH_VENV ?= .venv-torch
TORCH_VENV_FLAGS ?=
ifeq ($(TORCH),pip)
ifeq ($(origin BUILD),file)
BUILD := build-pip
endif
TORCH_CMAKE_FLAGS = -DOMNIHOST_TORCH=pip -DOMNIHOST_TORCH_VENV=$(abspath $(TORCH_VENV))
endif

$(BUILD)/build.ninja:
	$(if $(filter pip,$(TORCH)),scripts/setup_torch_venv.sh $(TORCH_VENV_FLAGS) $(TORCH_VENV))
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(TYPE) $(CMAKE_FLAGS) $(TORCH_CMAKE_FLAGS)

configure: deps $(BUILD)/build.ninja

build: configure
	cmake --build $(BUILD) -j $(JOBS)

run: build
	@scripts/run.sh $(BUILD)

test: deps-test configure
	cmake --build $(BUILD) -j $(JOBS)
	@scripts/test.sh $(BUILD)

bench: build
	@scripts/bench.sh $(BUILD)

fuzz: deps-test
	@FUZZ_SECONDS=$(FUZZ_SECONDS) JOBS=$(JOBS) scripts/fuzz.sh

asan: deps-test
	@JOBS=$(JOBS) scripts/asan_tests.sh build-asan

clean:
	rm -rf $(BUILD)
