# fsx-local: FSx for Lustre on one machine.
#
#   make            build every binary into build/bin
#   make run        install missing packages (root), build, start fsxd on loopback, state in ./var
#   make status     fsxd, its file systems and their engine processes
#   make stop       end fsxd and every engine process of the state dir
#   make check      build and run every test (unit, API, file system)
#   make asan       the same under ASan + UBSan
#   make bench      benchmarks; results under bench/results/
#   make schema     regenerate schema/schema.sql from migrations/
#   make fuzz       libFuzzer on every target of tests/fuzz, FUZZ_SECONDS each
#   make fp         the binaries with failpoints (src/core/failpoint.h) in build/fp
#   make faults     the fault tests (tests/faults) against build/fp
#   make soak       10 minutes of API calls and checksummed I/O (SOAK_SECONDS)
#   make fuzz-replay  the committed fuzz corpora once, under ASan + UBSan (gcc)
#   make cluster    (root) an emulated cluster: network namespaces as hosts,
#                   sshd on storage nodes n1-n3, fsxd in fsx-ctl (issue 13)
#   make cluster-down  end it all: fsxd, engines, sshds, namespaces
#   make check-cluster the cluster infrastructure's tests (tests/cluster)
#
# Layout: every src/cmd/<name>.c is a binary; every other .c under src/, api/
# and provisioner/ goes into one static library that the binaries link.
# tests/unit/check_<x>.c each define <x>_suite(); the runner is generated.

O        ?= build
PKGS      = libmicrohttpd jansson sqlite3 libcurl openssl fuse3 uuid
DEB_PKGS  = build-essential pkg-config libmicrohttpd-dev libjansson-dev \
            libsqlite3-dev libcurl4-openssl-dev libssl-dev uuid-dev check \
            libsubunit-dev libfuse3-dev fuse3 sqlite3 wrk fio
WARN      = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wpointer-arith -Wformat=2 -Wvla
CPPFLAGS  = -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -Isrc -Iapi -Iprovisioner -I$(O)/gen
CFLAGS    = -std=gnu11 -O2 -g -pthread $(WARN) $(EXTRA) \
            $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDFLAGS   = -pthread $(EXTRA)
LIBS      = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
CHECK_LIBS= $(shell pkg-config --libs check 2>/dev/null)

LIB_SRC   = $(wildcard src/core/*.c src/auth/*.c src/http/*.c src/db/*.c src/s3/*.c src/hsm/*.c src/node/*.c \
            src/msg/*.c src/mds/*.c src/oss/*.c src/fsc/*.c api/*.c provisioner/*.c)
CMD_SRC   = $(wildcard src/cmd/*.c)
BINS      = $(patsubst src/cmd/%.c,$(O)/bin/%,$(CMD_SRC))
LIB_OBJ   = $(patsubst %.c,$(O)/obj/%.o,$(LIB_SRC))
UNIT_SRC  = $(wildcard tests/unit/check_*.c)
UNIT_OBJ  = $(patsubst %.c,$(O)/obj/%.o,$(UNIT_SRC) tests/unit/run.c)
BENCH_SRC = $(wildcard bench/*.c)
BENCH_BIN = $(patsubst bench/%.c,$(O)/bench/%,$(BENCH_SRC))
DEPS      = $(LIB_OBJ:.o=.d) $(UNIT_OBJ:.o=.d) $(patsubst src/cmd/%.c,$(O)/obj/src/cmd/%.d,$(CMD_SRC))

.PHONY: fuzz fuzz-replay fuzz-run fuzz-replay-run fp faults soak soak-short
.PHONY: FORCE all run stop status check cluster cluster-down check-cluster deps-test unit itest jstest fsx fsx-short install asan ubsan bench schema check-schema check-api deps clean valgrind
all: $(BINS) $(BENCH_BIN)

$(O)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

# Files compiled into the binaries (migrations for fsxd's start-up).
MIGRATIONS = $(sort $(wildcard migrations/*.sql))
$(O)/gen/migrations.h: $(MIGRATIONS) tools/embed.sh
	@mkdir -p $(dir $@)
	sh tools/embed.sh db_migrations $(MIGRATIONS) > $@.tmp && mv $@.tmp $@
$(O)/obj/src/db/db.o $(O)/obj/tests/unit/check_db.o: $(O)/gen/migrations.h
# The version every binary prints with --version: the git description of
# the tree, else VERSION; the header is rewritten only when it changes.
VERSION_TXT = $(shell git describe --always --dirty --tags 2>/dev/null || cat VERSION)
$(O)/gen/fsx_version_gen.h: FORCE
	@mkdir -p $(dir $@)
	@echo '#define FSX_VERSION "$(shell cat VERSION) ($(VERSION_TXT))"' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
$(O)/obj/src/core/version.o: $(O)/gen/fsx_version_gen.h
FORCE:
# The API model (api/model.json) for the validator in api/model.c.
$(O)/gen/model_json.h: api/model.json tools/embed.sh
	@mkdir -p $(dir $@)
	sh tools/embed.sh api_model_json api/model.json > $@.tmp && mv $@.tmp $@
$(O)/obj/api/model.o $(O)/obj/tests/unit/check_model.o: $(O)/gen/model_json.h

$(O)/libfsxall.a: $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(O)/bin/%: $(O)/obj/src/cmd/%.o $(O)/libfsxall.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(O)/libfsxall.a $(LIBS)

$(O)/bench/%: bench/%.c $(O)/libfsxall.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(O)/libfsxall.a $(LIBS)

# The unit runner: one suite per tests/unit/check_<x>.c, named <x>_suite().
$(O)/gen/suites.h: $(UNIT_SRC)
	@mkdir -p $(dir $@)
	@for f in $(UNIT_SRC); do n=$$(basename $$f .c); n=$${n#check_}; \
		echo "SUITE($$n)"; done > $@.tmp && mv $@.tmp $@
$(O)/obj/tests/unit/run.o: $(O)/gen/suites.h
$(O)/check_unit: $(UNIT_OBJ) $(O)/libfsxall.a
	$(CC) $(LDFLAGS) -o $@ $(UNIT_OBJ) $(O)/libfsxall.a $(LIBS) $(CHECK_LIBS)

deps:
	@sh tools/deps.sh $(DEB_PKGS)
# What the test suites call, installed before they run rather than failing
# on an import: the build packages plus the aws CLI, boto3, node and npm.
deps-test:
	@sh tools/deps.sh --test $(DEB_PKGS)

unit: $(O)/check_unit $(BINS)
	cd $(CURDIR) && FSX_BIN=$(CURDIR)/$(O)/bin $(O)/check_unit

itest: $(BINS)
	FSX_BIN=$(CURDIR)/$(O)/bin python3 tests/run.py tests/api tests/fs tests/s3 tests/cluster

# The JavaScript SDK v3 against fsxd (node's own test runner).
jstest: $(BINS)
	@[ -d tests/js/node_modules/@aws-sdk/client-fsx ] || \
		(cd tests/js && npm ci --no-audit --no-fund --loglevel=error)
	FSX_BIN=$(CURDIR)/$(O)/bin node --test tests/js/

# xfstests' fsx on a mount (tests/fsx/run.py): FSX_SRC=<fetched
# kdave/xfstests tree or git dir> builds it into /tmp, else /tmp/fsx is
# used; skipped with a message when there is neither.
FSX_OPS ?= 100000
FSX_SEEDS ?= 10
fsx: $(BINS)
	FSX_BIN=$(CURDIR)/$(O)/bin FSX_OPS=$(FSX_OPS) FSX_SEEDS=$(FSX_SEEDS) \
		python3 tests/fsx/run.py
# The short run make check does: 3,000 operations for 2 seeds.
fsx-short: $(BINS)
	FSX_BIN=$(CURDIR)/$(O)/bin FSX_OPS=3000 FSX_SEEDS=2 python3 tests/fsx/run.py

check: deps-test
	@$(MAKE) --no-print-directory all check-schema check-api unit itest jstest fsx-short \
		fuzz-replay faults soak-short

asan:
	$(MAKE) O=build/asan EXTRA="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		ASAN_OPTIONS=detect_leaks=1 check
ubsan:
	$(MAKE) O=build/ubsan EXTRA="-fsanitize=undefined -fno-sanitize-recover=all" check

valgrind: $(O)/check_unit
	CK_FORK=no valgrind --error-exitcode=1 --leak-check=full -q $(O)/check_unit

schema:
	sh tools/schema.sh > schema/schema.sql
check-schema:
	@sh tools/schema.sh | diff -u schema/schema.sql - && echo "schema: up to date"
check-api:
	python3 tools/check_api.py

STATE ?= $(CURDIR)/var
PORT  ?= 4566
# deps first, then a new make: the compiler flags come from pkg-config,
# which needs the packages deps installs.
run: deps
	@$(MAKE) --no-print-directory all
	@mkdir -p $(STATE)
	$(O)/bin/fsxd --listen 127.0.0.1 --port $(PORT) --state-dir $(STATE)

# Engine processes outlive fsxd on purpose (a restarted fsxd adopts them);
# these end them, or show them.
stop:
	@sh tools/fsxctl.sh stop $(STATE)
status:
	@sh tools/fsxctl.sh status $(STATE)

# make bench [QUICK=1] [PEERS=1]: bench/run.sh (every benchmark beside its
# baselines, then bench/report.py -> bench/results/latest.md and plots).
BENCH_PKGS = fio wrk gnuplot-nox libfuse3-dev
bench: all
	@sh tools/deps.sh --test $(DEB_PKGS) $(BENCH_PKGS)
	QUICK=$(QUICK) PEERS=$(PEERS) sh bench/run.sh

# The emulated dev cluster (tests/cluster/netns.sh): namespaces fsx-ctl
# (fsxd, 10.77.0.10), fsx-n1..3 (storage nodes with sshd, 10.77.0.11-13),
# fsx-cl (a client, 10.77.0.20), state in FSX_CLUSTER_DIR. fsxd's config is
# the 'node = ...' lines of netns.sh fsxd-conf. An fsxd that does not start
# (one without the ssh driver rejects 'node') leaves the hosts up and says so.
FSX_CLUSTER_DIR ?= /tmp/fsx-cluster
CLUSTER_SH = FSX_CLUSTER_DIR=$(FSX_CLUSTER_DIR) FSX_BIN=$(CURDIR)/$(O)/bin \
             bash tests/cluster/netns.sh
cluster: deps-test
	@$(MAKE) --no-print-directory all
	@$(CLUSTER_SH) up
	@$(CLUSTER_SH) fsxd-conf > $(FSX_CLUSTER_DIR)/fsxd.conf
	@$(CLUSTER_SH) fsxd-start || echo "cluster: fsxd is not running; the hosts are up"
	@echo
	@$(CLUSTER_SH) usage
cluster-down:
	@$(CLUSTER_SH) fsxd-stop
	@$(CLUSTER_SH) down
	@echo "cluster: down"
# Not part of check yet: needs root and network namespaces (skipped without).
check-cluster:
	@[ "$$(id -u)" != 0 ] || sh tools/deps.sh iproute2 openssh-client openssh-server
	python3 tests/run.py tests/cluster

# Failpoints (src/core/failpoint.h) exist only in this separate build; the
# fault tests (tests/faults) arm them in the processes they start.
fp:
	@$(MAKE) --no-print-directory O=build/fp EXTRA=-DFSX_FAILPOINTS all
faults: fp
	FSX_BIN=$(CURDIR)/build/fp/bin python3 tests/run.py tests/faults

# Soak (tests/soak/soak.py): API clients and I/O on two mounts for
# SOAK_SECONDS, RSS sampled; results in bench/results. make check runs 30 s
# of it with results under build/.
SOAK_SECONDS ?= 600
soak: all
	FSX_BIN=$(CURDIR)/$(O)/bin SOAK_SECONDS=$(SOAK_SECONDS) python3 tests/soak/soak.py
soak-short: all
	FSX_BIN=$(CURDIR)/$(O)/bin SOAK_SECONDS=30 SOAK_OUT=$(CURDIR)/$(O)/soak \
		python3 tests/soak/soak.py

# Fuzzing (tests/fuzz/fuzz.h). `make fuzz` builds each target with clang
# (warnings stay warnings: clang has some gcc has not)
# and libFuzzer into build/fuzz and runs it FUZZ_SECONDS, new inputs going
# to build/fuzz/corpus/<t> (a crash leaves build/fuzz/crash-<t>-*);
# `make fuzz-replay` builds the same targets with gcc, ASan, UBSan and
# tests/fuzz/replay.c (sharing `make asan`'s objects) and runs every input
# of tests/fuzz/corpus/<t> once.
FUZZ_TARGETS = http sigv4 msg mds oss s3xml lfs hsm
FUZZ_SECONDS ?= 60
FUZZ_SAN     = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
FUZZ_SRC     = tests/fuzz/fuzz_common.c tests/fuzz/fuzz_eng.c
FUZZ_HDR     = $(wildcard tests/fuzz/*.h)
fuzz:
	@sh tools/deps.sh clang
	@$(MAKE) --no-print-directory O=build/fuzz CC=clang \
		EXTRA="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -Wno-error" fuzz-run
fuzz-replay:
	@$(MAKE) --no-print-directory O=build/asan EXTRA="$(FUZZ_SAN)" fuzz-replay-run
fuzz-run: $(patsubst %,$(O)/fuzz/fuzz_%,$(FUZZ_TARGETS))
	@for t in $(FUZZ_TARGETS); do mkdir -p $(O)/fuzz/corpus/$$t; \
		printf 'fuzz: %-6s %s s ... ' $$t $(FUZZ_SECONDS); \
		$(O)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		    -artifact_prefix=$(CURDIR)/$(O)/fuzz/crash-$$t- $(CURDIR)/$(O)/fuzz/corpus/$$t \
		    $(CURDIR)/tests/fuzz/corpus/$$t > $(O)/fuzz/$$t.log 2>&1 || \
		    { echo FAILED; tail -40 $(O)/fuzz/$$t.log; exit 1; }; \
		grep -h 'stat::number_of_executed_units\|cov:' $(O)/fuzz/$$t.log | tail -2 | tr '\n' ' '; echo; done
fuzz-replay-run: $(patsubst %,$(O)/fuzz/replay_%,$(FUZZ_TARGETS))
	@for t in $(FUZZ_TARGETS); do printf 'fuzz-replay: %-6s ' $$t; \
		$(O)/fuzz/replay_$$t tests/fuzz/corpus/$$t || exit 1; done
$(O)/fuzz/lfs.o: src/cmd/lfs.c tests/fuzz/lfs_main.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -include tests/fuzz/lfs_main.h -Dmain=lfs_main -c $< -o $@
$(O)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_SRC) $(FUZZ_HDR) $(O)/fuzz/lfs.o $(O)/libfsxall.a
	$(CC) $(CPPFLAGS) -Itests/fuzz $(CFLAGS) -fsanitize=fuzzer $(LDFLAGS) -o $@ $< $(FUZZ_SRC) \
		$(O)/fuzz/lfs.o $(O)/libfsxall.a $(LIBS)
$(O)/fuzz/replay_%: tests/fuzz/fuzz_%.c $(FUZZ_SRC) $(FUZZ_HDR) tests/fuzz/replay.c $(O)/fuzz/lfs.o $(O)/libfsxall.a
	$(CC) $(CPPFLAGS) -Itests/fuzz $(CFLAGS) $(LDFLAGS) -o $@ $< $(FUZZ_SRC) tests/fuzz/replay.c \
		$(O)/fuzz/lfs.o $(O)/libfsxall.a $(LIBS)

PREFIX ?= /usr/local
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)/sbin
	install -m 0755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0755 tools/mount.fsx $(DESTDIR)/sbin/mount.fsx

clean:
	rm -rf build

-include $(DEPS)
