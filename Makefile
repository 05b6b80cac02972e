# Thin wrapper over CMake. The two commands a newcomer needs:
#   make run    build and start sealroom-relay on 127.0.0.1:3000
#   make test   everything CI runs (installs missing Debian packages first)
BUILD   ?= build
JOBS    ?= $(shell nproc)
CMAKE_FLAGS ?=
PORT    ?= 3000

.PHONY: all build run test unit asan tsan fuzz fuzz-smoke lint bench clean deps-build deps-test

all: build

deps-build:
	@ci/deps.sh build

deps-test:
	@ci/deps.sh test

build: deps-build
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEALROOM_WERROR=ON $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

run: build
	$(BUILD)/relay/sealroom-relay --host 127.0.0.1 --port $(PORT)

# Everything CI runs, in stages; see ci/test.sh.
test: deps-test
	@ci/test.sh

# Just the CTest suites of the normal build.
unit: build
	@cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

asan: deps-test
	@ci/sanitize.sh address

tsan: deps-test
	@ci/sanitize.sh thread

fuzz-smoke: deps-test
	@ci/fuzz.sh smoke

fuzz: deps-test
	@ci/fuzz.sh long

lint: deps-test
	@ci/lint.sh

bench: build
	@ci/bench.sh

clean:
	rm -rf build build-*
