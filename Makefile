# Shortcuts for scripts/dev.sh (which works without make on a fresh machine).
.PHONY: run test package fuzz bench clean
run:
	bash scripts/dev.sh run
test:
	bash scripts/dev.sh test
package:
	bash scripts/dev.sh package
fuzz:
	bash scripts/dev.sh fuzz
bench:
	bash scripts/dev.sh bench
clean:
	rm -rf build build-debug build-asan build-fuzz
