# The two commands a newcomer needs:
#   make run    build and start omnihost on http://127.0.0.1:8091 with the embedded demo recipe
#   make test   build and run every test (unit, integration, parity, browser)
# Both install missing Debian packages first (scripts/bootstrap.sh).

BUILD   ?= build
TYPE    ?= Release
JOBS    ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps deps-test configure build run test test-native test-web bench clean

all: build

deps:
	@scripts/bootstrap.sh build

deps-test:
	@scripts/bootstrap.sh test

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(TYPE) $(CMAKE_FLAGS)

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

clean:
	rm -rf $(BUILD)
