# Posthorn - the only entry point of the build.
#
#   make            build everything into build/ (parallel-safe; header deps tracked)
#   make test       install what is missing, build, run unit, fuzz-smoke and integration tests
#   make run        install what is missing, build, start an instance on loopback under run/
#   make stop       stop that instance
#   make bench      benchmarks (bench/), compared with Postfix when it is installed
#   make fuzz       libFuzzer targets (clang) into build/fuzz/
#   make install    DESTDIR=... PREFIX=... (default PREFIX=/usr) SETGID_GROUP=postdrop
#   make clean
#   make WITHOUT_BDB=1 ...   build without Berkeley DB (hash:/btree: become an error naming lmdb:)
#
# Sources are found by their place: lib/*/*.cc make libposthorn.a, each program
# directory makes one program, t/unit/**.cc make one Catch2 binary, t/fuzz/*_fuzz.cc
# one fuzzer each. Adding a file needs no edit here.

SHELL := /bin/bash
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
PREFIX ?= /usr
SYSCONFDIR ?= /etc/posthorn
DAEMONDIR ?= $(PREFIX)/lib/posthorn
MANDIR ?= $(PREFIX)/share/man
SETGID_GROUP ?= postdrop
DESTDIR ?=

ifeq ($(WITHOUT_BDB),1)
BUILD ?= build/nobdb
else
BUILD ?= build
endif

CXX ?= g++
CXXFLAGS ?= -O2 -g
WARNINGS := -Wall -Wextra -Werror
ALL_CPPFLAGS := -I. -MMD -MP $(CPPFLAGS)
ALL_CXXFLAGS := -std=c++20 $(WARNINGS) $(CXXFLAGS)
LDLIBS := -levent -levent_openssl -lssl -lcrypto -lldns -llmdb -lcrypt

LIB_SRCS := $(sort $(wildcard lib/*/*.cc))
ifeq ($(WITHOUT_BDB),1)
LIB_SRCS := $(filter-out lib/maps/bdb_%.cc,$(LIB_SRCS))
ALL_CPPFLAGS += -DPOSTHORN_WITHOUT_BDB
else
LDLIBS += -ldb_cxx
endif
LIB_OBJS := $(LIB_SRCS:%.cc=$(BUILD)/obj/%.o)
LIB := $(BUILD)/libposthorn.a

# name:directory of every program; one is built once its directory has sources.
PROGRAM_DIRS := master:master smtpd:smtpd pickup:pickup qmgr:qmgr smtp:smtp local:local \
  auth:auth pop3d:pop3d imapd:imapd posthorn:tools/posthorn sendmail:tools/sendmail \
  postdrop:tools/postdrop
PROGRAMS :=
# A program may also link sources of another program's directory (NAME_USES):
# sendmail -bs runs smtpd's protocol engine over standard input and output.
sendmail_USES := smtpd/session.cc smtpd/params.cc smtpd/auth_verb.cc smtpd/tls_verb.cc
# A program's objects but its main.o are linked into the unit tests too, so
# t/unit/<dir>/ can test what lives in the program's directory.
PROGRAM_PARTS :=
define program
$(1)_SRCS := $$(sort $$(wildcard $(2)/*.cc))
ifneq ($$($(1)_SRCS),)
PROGRAMS += $(BUILD)/bin/$(1)
PROGRAM_PARTS += $$(filter-out %/main.o,$$($(1)_SRCS:%.cc=$(BUILD)/obj/%.o))
$(1)_FUZZPARTS := $$(filter-out %/main.o,$$($(1)_SRCS:%.cc=$(BUILD)/fuzzobj/%.o))
$(BUILD)/bin/$(1): $$($(1)_SRCS:%.cc=$(BUILD)/obj/%.o) $$($(1)_USES:%.cc=$(BUILD)/obj/%.o) $(LIB)
	@mkdir -p $$(@D)
	$$(CXX) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endif
endef
$(foreach p,$(PROGRAM_DIRS),$(eval $(call program,$(word 1,$(subst :, ,$(p))),$(word 2,$(subst :, ,$(p))))))

# Test-only programs (a service that master can spawn, for instance): each
# directory t/progs/NAME makes build/t/progs/NAME.
TEST_PROGRAMS :=
define test_program
TEST_PROGRAMS += $(BUILD)/t/progs/$(1)
$(BUILD)/t/progs/$(1): $$(patsubst %.cc,$(BUILD)/obj/%.o,$$(sort $$(wildcard t/progs/$(1)/*.cc))) $(LIB)
	@mkdir -p $$(@D)
	$$(CXX) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach d,$(wildcard t/progs/*),$(eval $(call test_program,$(notdir $(d)))))

UNIT_SRCS := $(sort $(shell find t/unit -name '*.cc' 2>/dev/null))
ifeq ($(WITHOUT_BDB),1)
UNIT_SRCS := $(filter-out t/unit/lib/maps/bdb_%.cc,$(UNIT_SRCS))
endif
UNIT_OBJS := $(UNIT_SRCS:%.cc=$(BUILD)/obj/%.o)
UNIT := $(BUILD)/t/unit_tests

BENCH_SRCS := $(sort $(wildcard bench/*.cc))
BENCHES := $(BENCH_SRCS:bench/%.cc=$(BUILD)/bench/%)

# Fuzzing: clang with libFuzzer, ASan and UBSan; our library is rebuilt with them.
FUZZ_CXX ?= clang++-14
FUZZ_FLAGS := -std=c++20 -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
  -fno-sanitize-recover=undefined
FUZZ_SRCS := $(sort $(wildcard t/fuzz/*_fuzz.cc))
FUZZERS := $(FUZZ_SRCS:t/fuzz/%_fuzz.cc=$(BUILD)/fuzz/%)
# A fuzzer NAME links the library and, when there is a program NAME, that
# program's objects but main.o (t/fuzz/smtpd_fuzz.cc drives smtpd's session
# engine); other programs are not compiled for fuzzing at all.
# A fuzzer named otherwise says which program's parts it takes here.
FUZZ_LIB_OBJS := $(LIB_SRCS:%.cc=$(BUILD)/fuzzobj/%.o)
imap_parser_FUZZPARTS = $(imapd_FUZZPARTS)

.PHONY: all build deps deps-test deps-run deps-fuzz test unit fuzz-smoke integration run stop \
  bench fuzz install clean
.DEFAULT_GOAL := all
# Objects reached only through pattern rules (fuzzers, benchmarks) are kept:
# make would otherwise delete them as intermediates and rebuild them each run.
.SECONDARY:

all: deps
	@$(MAKE) --no-print-directory -j$(JOBS) build

build: $(PROGRAMS) $(UNIT) $(TEST_PROGRAMS)

deps:
	@scripts/deps.sh build
deps-test:
	@scripts/deps.sh test
deps-run:
	@scripts/deps.sh run
deps-fuzz:
	@scripts/deps.sh fuzz

$(BUILD)/obj/%.o: %.cc
	@mkdir -p $(@D)
	$(CXX) $(ALL_CPPFLAGS) $(ALL_CXXFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(UNIT): $(UNIT_OBJS) $(PROGRAM_PARTS) $(LIB)
	@mkdir -p $(@D)
	$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(LIB)
	@mkdir -p $(@D)
	$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/fuzzobj/%.o: %.cc
	@mkdir -p $(@D)
	$(FUZZ_CXX) $(ALL_CPPFLAGS) $(FUZZ_FLAGS) $(WARNINGS) -fsanitize=fuzzer-no-link -c -o $@ $<

.SECONDEXPANSION:
$(BUILD)/fuzz/%: $(BUILD)/fuzzobj/t/fuzz/%_fuzz.o $(FUZZ_LIB_OBJS) $$($$*_FUZZPARTS)
	@mkdir -p $(@D)
	$(FUZZ_CXX) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

fuzz: deps-fuzz
	@$(MAKE) --no-print-directory -j$(JOBS) $(FUZZERS)

# The test run: unit tests, each fuzzer over its seed corpus once, then the
# integration tests that drive the real programs. pytest's summary line ends it.
test: deps-test
	@$(MAKE) --no-print-directory -j$(JOBS) build $(FUZZERS)
	@$(MAKE) --no-print-directory unit fuzz-smoke integration

unit: $(UNIT)
	$(UNIT)

fuzz-smoke: $(FUZZERS)
	@scripts/fuzz-smoke.sh $(BUILD)/fuzz

integration: $(PROGRAMS) $(TEST_PROGRAMS)
	POSTHORN_BUILD=$(abspath $(BUILD)) /usr/bin/python3 -m pytest -q -p no:cacheprovider t/integration

# The instance lives in run/ (RUN_DIR=... elsewhere; PORT_BASE=N for its first
# port when it is made): scripts/run.sh says what it does.
run: deps-run
	@$(MAKE) --no-print-directory -j$(JOBS) build
	@scripts/run.sh $(BUILD) start

stop:
	@scripts/run.sh $(BUILD) stop

bench: deps
	@$(MAKE) --no-print-directory -j$(JOBS) build $(BENCHES)
	@bench/run.sh $(BUILD)

install: build
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(DAEMONDIR) \
	  $(DESTDIR)$(SYSCONFDIR)
	for p in $(PROGRAMS); do \
	  case $${p##*/} in \
	    posthorn|sendmail|postdrop) install -m 0755 $$p $(DESTDIR)$(PREFIX)/sbin/ ;; \
	    *) install -m 0755 $$p $(DESTDIR)$(DAEMONDIR)/ ;; \
	  esac; \
	done
	# mailq and newaliases are sendmail under other names (mailq_path,
	# newaliases_path); postdrop is set-gid to setgid_group, the one
	# privileged program of local submission (postdrop(1)).
	ln -sf ../sbin/sendmail $(DESTDIR)$(PREFIX)/bin/mailq
	ln -sf ../sbin/sendmail $(DESTDIR)$(PREFIX)/bin/newaliases
	if chgrp $(SETGID_GROUP) $(DESTDIR)$(PREFIX)/sbin/postdrop 2>/dev/null; then \
	  chmod 2755 $(DESTDIR)$(PREFIX)/sbin/postdrop; \
	else \
	  echo "install: group $(SETGID_GROUP) is missing: create it, then" \
	    "chgrp $(SETGID_GROUP) $(PREFIX)/sbin/postdrop && chmod 2755 $(PREFIX)/sbin/postdrop" >&2; \
	fi
	for f in conf/*; do \
	  [ -e $(DESTDIR)$(SYSCONFDIR)/$${f##*/} ] || install -m 0644 $$f $(DESTDIR)$(SYSCONFDIR)/; \
	done
	for m in man/*.[0-9]; do \
	  [ -e "$$m" ] || continue; s=$${m##*.}; \
	  install -d $(DESTDIR)$(MANDIR)/man$$s; install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/; \
	done

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
