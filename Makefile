# bpfkit developer entry points. `make help` lists them.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# Cache base shared with scripts/deps.sh and the tools (overridable).
BPFKIT_CACHE_DIR ?= /var/cache/bpfkit

# Test files: every *.test.ts under test/unit and test/kernel, sorted so runs
# are reproducible. Narrow with e.g. `make test TESTS=test/unit/x.test.ts`.
TESTS ?=
ALL_TEST_FILES  = $(shell find test/unit test/kernel -type f -name '*.test.ts' 2>/dev/null | LC_ALL=C sort)
UNIT_TEST_FILES = $(shell find test/unit -type f -name '*.test.ts' 2>/dev/null | LC_ALL=C sort)
TEST_FILES = $(or $(TESTS),$(ALL_TEST_FILES))
UNIT_FILES = $(or $(TESTS),$(UNIT_TEST_FILES))

NODE_TEST = node --import tsx --test --test-concurrency=1 --test-reporter=tap --test-reporter-destination=stdout --test-reporter=./test/reporters/failures.mjs --test-reporter-destination=stdout

# `make run TOOL=execsnoop ARGS="-t"`; checked before deps runs.
TOOL ?=
ARGS ?=
ifneq ($(filter run,$(MAKECMDGOALS)),)
  ifeq ($(strip $(TOOL)),)
    $(error make run: set TOOL, e.g. make run TOOL=execsnoop ARGS="-t")
  endif
  ifeq ($(wildcard tools/$(TOOL).ts),)
    $(error make run: no such tool: tools/$(TOOL).ts)
  endif
endif

.PHONY: help deps test test-deps test-unit run typecheck clean-cache
.PHONY: bench-deps bench install vm-deps test-vm
.PHONY: image-deps image image-save image-test

# `make test-vm KERNEL=debian12 TESTS=test/kernel/tcptop.test.ts`: kernels and files to run.
KERNEL ?=

help: ## Show this help
	@echo "Targets:"
	@grep -E '^[a-z-]+:.*## ' $(firstword $(MAKEFILE_LIST)) | \
	  sed -E 's/^([a-z-]+):.*## (.*)/  \1\t\2/' | expand -t 16
	@echo "Variables: TESTS=<files> (narrow test/test-unit/test-vm), KERNEL=<list> (test-vm), TOOL=<name> ARGS=\"...\" (run)"

deps: ## Set up the machine: libbcc, npm packages, kernel headers, tracefs (root)
	bash scripts/deps.sh

test-deps: ## Install what the tests need beyond deps: Debian's prometheus, man-db, groff (root)
	bash scripts/test-deps.sh

test: deps test-deps ## Run unit + kernel tests (after deps and test-deps); TESTS= narrows
	@[ -n "$(strip $(TEST_FILES))" ] || { echo "make test: no *.test.ts under test/unit or test/kernel" >&2; exit 1; }
	$(NODE_TEST) $(TEST_FILES)

test-unit: ## Run unit tests only (no deps step)
	@[ -n "$(strip $(UNIT_FILES))" ] || { echo "make test-unit: no *.test.ts under test/unit" >&2; exit 1; }
	$(NODE_TEST) $(UNIT_FILES)

run: deps ## Run a tool: make run TOOL=execsnoop ARGS="-t"
	node --import tsx tools/$(TOOL).ts $(ARGS)

typecheck: ## Type-check the whole tree (tsc --noEmit)
	npx tsc -p tsconfig.json --noEmit

install: deps ## Pack the package and install it globally: commands in PATH, man pages (root)
	tarball=$$(npm pack --silent --pack-destination "$${TMPDIR:-/tmp}" | tail -n 1); \
	  npm install -g --no-audit --no-fund "$${TMPDIR:-/tmp}/$$tarball"; rm -f "$${TMPDIR:-/tmp}/$$tarball"

clean-cache: ## Remove compiled-program cache (keeps kernel headers)
	rm -rf -- "$(BPFKIT_CACHE_DIR)/compile"

vm-deps: ## Install what make test-vm needs: QEMU, a static busybox, kmod, cpio, xz, zstd (root)
	bash scripts/apt.sh install qemu-system-x86 busybox-static kmod cpio xz-utils zstd

test-vm: deps vm-deps ## Run each tool's kernel tests on stock kernels under QEMU (root; KERNEL=, TESTS=)
	node --import tsx test/vm/run.ts --kernel "$(KERNEL)" --tests "$(TESTS)"

bench-deps: ## Install the benchmark's anchors: Debian's bcc tools and bpftrace (root, idempotent)
	bash scripts/apt.sh install bpfcc-tools bpftrace

bench: deps bench-deps ## Benchmark every tool beside bcc and bpftrace (~20 min); BENCH_ARGS="--help"
	node --import tsx test/bench/run.ts $(BENCH_ARGS)

# The exporter's container image (image/, deploy/daemonset.yaml). Our own containers.conf: runc
# and ulimits this machine allows, without touching /etc/containers.
IMAGE_BASE ?=
IMAGE_ARCHIVE_DIR ?= image/out
image-deps image image-save image-test: export CONTAINERS_CONF := $(CURDIR)/image/containers.conf
image_version = $$(node -p 'require("./package.json").version')

image-deps: ## Install what the image targets need: podman, runc, mmdebstrap (root)
	bash scripts/apt.sh install podman runc mmdebstrap

image: deps image-deps ## Build the exporter image localhost/bpfkit:<version> from Debian's packages (root; IMAGE_BASE=)
	BASE="$(IMAGE_BASE)" bash image/build.sh

image-save: image ## Write the image as an OCI archive for podman load elsewhere: image/out/bpfkit-image-<version>.oci.tar (root)
	@v=$(image_version); mkdir -p $(IMAGE_ARCHIVE_DIR); out="$(IMAGE_ARCHIVE_DIR)/bpfkit-image-$$v.oci.tar"; \
	  rm -f "$$out"; podman save --quiet --format oci-archive -o "$$out" "localhost/bpfkit:$$v"; \
	  echo "image: saved localhost/bpfkit:$$v to $$out ($$(du -m "$$out" | cut -f1) MB)"

image-test: image-save ## Run the image with the DaemonSet's privileges and check it from the host; load the archive into empty storage (root)
	@v=$(image_version); node --import tsx test/image/image-test.ts --image "localhost/bpfkit:$$v" \
	  --archive "$(IMAGE_ARCHIVE_DIR)/bpfkit-image-$$v.oci.tar" --daemonset deploy/daemonset.yaml
