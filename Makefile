# async-search: build, dependencies, data, search, tests, benchmarks.
#
#   make          build/async-search
#   make deps     install the missing Debian packages (idempotent)
#   make run      deps + build + data, then the default TC1 search (local site)
#   make test     deps + build, then C unit tests, pytest, whole-program tests,
#                 the benchmarks' own tests
#   make lint     flake8 over python/, tests/ and bench/ (settings in setup.cfg)
#   make bench    the benchmarks of bench/asbench/runners/ (output: build/bench/)
#   make sanitize ASan+UBSan build: C unit tests and one short search

PYTHON        ?= /usr/bin/python3
PYTHON_CONFIG ?= /usr/bin/python3-config
MPICC         ?= mpicc
BUILD         ?= build

NUMPY_INCLUDE := $(shell $(PYTHON) -c "import numpy; print(numpy.get_include())" 2>/dev/null)
PY_INCLUDES   := $(shell $(PYTHON_CONFIG) --includes 2>/dev/null)
PY_LDFLAGS    := $(shell $(PYTHON_CONFIG) --embed --ldflags 2>/dev/null)

WARNINGS := -Wall -Wextra -Wshadow -Wstrict-prototypes -Werror
CFLAGS   ?= -O2 -g
# BUILD_PYTHON: the build's Python, compiled in wherever the program starts
# one (the embedded interpreter's program name, --python's default, the
# report); bin/ scripts get it from `async-search cfg-variables`.
ALL_CFLAGS = -std=c11 $(WARNINGS) $(CFLAGS) -D_POSIX_C_SOURCE=200809L \
             -DBUILD_PYTHON='"$(PYTHON)"' \
             $(PY_INCLUDES) $(if $(NUMPY_INCLUDE),-I$(NUMPY_INCLUDE))
LDLIBS   = $(PY_LDFLAGS) -lpthread -lm

SRCS := $(wildcard csrc/*.c)
OBJS := $(patsubst csrc/%.c,$(BUILD)/obj/%.o,$(SRCS))
# Modules without MPI or Python, linked into the C unit tests.
PURE := policy options expid runid strbuf util log cmdline childenv modelout spawn \
        spawn_exec spawn_forkserver launch forkserver queue journal signals \
        progress batch pool optimizer manager summary experiment transport_sim \
        modelcheck stopper stopper_asha stopper_median stopper_lce layout team
PURE_OBJS := $(patsubst %,$(BUILD)/obj/%.o,$(PURE))
CTESTS := $(patsubst tests/c/%.c,$(BUILD)/tests/%,$(wildcard tests/c/test_*.c))
PYTHON_STAMP := $(BUILD)/obj/python.stamp

export OMPI_ALLOW_RUN_AS_ROOT = 1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM = 1
export OMPI_MCA_rmaps_base_oversubscribe = 1

.PHONY: all deps test-deps data run test test-c test-python test-integration test-bench \
        lint bench sanitize format format-check clean FORCE

all: $(BUILD)/async-search

# V=1 shows the full commands.
Q := $(if $(V),,@)

$(BUILD)/async-search: $(OBJS)
	@echo "  LINK  $@"
	$(Q)$(MPICC) $(ALL_CFLAGS) -o $@ $(OBJS) $(LDLIBS)

$(BUILD)/obj/%.o: csrc/%.c $(wildcard csrc/*.h) $(PYTHON_STAMP) | $(BUILD)/obj
	@echo "  CC    $<"
	$(Q)$(MPICC) $(ALL_CFLAGS) -c -o $@ $<

# The PYTHON compiled in last time: a different one rebuilds every object.
$(PYTHON_STAMP): FORCE | $(BUILD)/obj
	$(Q)echo '$(PYTHON)' | cmp -s - $@ || echo '$(PYTHON)' >$@

$(BUILD)/obj $(BUILD)/tests:
	mkdir -p $@

deps:
	@bin/install-deps runtime

test-deps:
	@bin/install-deps test

# Real offline data in CANDLE's format under data/Pilot1 (idempotent):
# TC1 from the ALL leukaemia set (r-bioc-all), NT3 from Wisconsin breast
# cancer (python3-sklearn); see data/Pilot1/PROVENANCE.md.
data: deps
	PYTHONPATH=$(CURDIR)/python $(PYTHON) -m async_search.benchmarks.prepare_data --out $(CURDIR)/data

run: deps all data
	bin/make-run

# ---- tests -----------------------------------------------------------------

$(BUILD)/tests/%: tests/c/%.c $(wildcard tests/c/*.h) $(PURE_OBJS) $(PYTHON_STAMP) | $(BUILD)/tests
	@echo "  TEST  $@"
	$(Q)$(MPICC) $(ALL_CFLAGS) -Icsrc -o $@ $< $(PURE_OBJS) -lcmocka -lpthread -lm

test: test-deps format-check lint all data test-c test-python test-integration test-bench

test-c: $(CTESTS)
	@set -e; for t in $(CTESTS); do echo "== $$t"; $$t; done

test-python:
	PYTHON='$(PYTHON)' bin/pytest-strict tests/python

lint:
	$(PYTHON) -m flake8 python tests bench
	$(PYTHON) tests/lint/structure.py csrc

test-integration: all
	PYTHON='$(PYTHON)' bin/pytest-strict tests/integration

# The benchmarks' own tests (bench/asbench/tests; asbench is on pytest's
# path from setup.cfg).
test-bench:
	PYTHON='$(PYTHON)' bin/pytest-strict bench/asbench/tests

bench: deps all
	PYTHON='$(PYTHON)' bin/run-bench

SANITIZE_FLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
                  -fno-omit-frame-pointer

# ASan+UBSan: the C unit tests and a short whole-program search; then
# valgrind memcheck of the manager over a few hundred evaluations.
sanitize: test-deps all
	$(MAKE) BUILD=build-sanitize CFLAGS="$(SANITIZE_FLAGS)" \
	  LDLIBS="$(PY_LDFLAGS) -lpthread -lm -fsanitize=address,undefined" \
	  build-sanitize/async-search test-c
	tests/sanitize-search.sh build-sanitize/async-search
	$(PYTHON) tests/valgrind/leaks.py --evals 100 400

format:
	clang-format -i csrc/*.c csrc/*.h tests/c/*.c tests/c/*.h

format-check:
	clang-format --dry-run --Werror csrc/*.c csrc/*.h tests/c/*.c tests/c/*.h

clean:
	rm -rf build build-sanitize
