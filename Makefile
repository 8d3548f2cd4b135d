# The two commands of the README, and a few more.
#   make run    install what is missing, build, run `dlrig doctor` on this machine
#   make test   install what is missing, build, run every test
.PHONY: run test build package fuzz bench clean

JOBS ?= $(shell nproc)

build:
	scripts/install-deps.sh build
	cmake --preset release
	cmake --build --preset release -j $(JOBS)

run: build
	./build/dlrig doctor

test:
	scripts/install-deps.sh test
	cmake --preset release
	cmake --build --preset release -j $(JOBS)
	ctest --preset release -j $(JOBS)

package: build
	cd build && cpack -G DEB

fuzz:
	scripts/install-deps.sh test
	cmake --preset fuzz
	cmake --build --preset fuzz -j $(JOBS)
	scripts/run-fuzzers.sh build-fuzz 60

bench: build
	scripts/bench-doctor.sh

clean:
	rm -rf build build-debug build-fuzz
