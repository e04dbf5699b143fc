# SPDX-License-Identifier: ISC
# tern: one Makefile. Modules are folders; every *.c in a library folder goes
# into libtern.a, every *_test.c beside it is a cmocka test of that module.

PREFIX	?= /usr/local
DESTDIR	?=
BINDIR	 = $(PREFIX)/bin
SBINDIR	 = $(PREFIX)/sbin
MANDIR	 = $(PREFIX)/share/man

CC	?= cc
PKGS	 = gnutls lmdb libcurl json-c
OPT	?= -O2 -g
WARN	 = -std=c17 -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes \
	   -Wno-unused-parameter
DEFS	 = -D_GNU_SOURCE -DTERN_LIBCURL='"$(LIBCURL)"'
# libcurl is loaded at run time by the OAuth2 code (relay/oauth_http.c says
# why): its headers come from pkg-config, its soname from dpkg's symbols.
LIBCURL	 = libcurl-gnutls.so.4
CFLAGS_ALL = $(OPT) $(WARN) $(DEFS) $(shell pkg-config --cflags $(PKGS)) \
	   $(CFLAGS)
LIBS	 = $(shell pkg-config --libs gnutls lmdb json-c)
TESTLIBS = $(shell pkg-config --libs cmocka)

B	?= build
LIBDIRS	 = lib msg queue net tls smtp sasl inject odmr deliver relay
LIBSRC	 = $(filter-out %_test.c %_fuzz.c,$(wildcard $(addsuffix /*.c,$(LIBDIRS))))
CLISRC	 = $(filter-out %_test.c,$(wildcard cli/*.c))
DSRC	 = $(filter-out %_test.c,$(wildcard daemon/*.c))
TESTSRC	 = $(wildcard $(addsuffix /*_test.c,$(LIBDIRS) cli daemon))
HEADERS	 = $(wildcard */*.h)

LIBOBJ	 = $(LIBSRC:%.c=$(B)/%.o)
CLIOBJ	 = $(CLISRC:%.c=$(B)/%.o)
DOBJ	 = $(DSRC:%.c=$(B)/%.o)
TESTS	 = $(TESTSRC:%.c=$(B)/%)

all: $(B)/tern $(B)/ternd

$(B)/%.o: %.c $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(B)/libtern.a: $(LIBOBJ)
	@rm -f $@
	ar rcs $@ $(LIBOBJ)

$(B)/tern: $(CLIOBJ) $(B)/libtern.a
	$(CC) $(CFLAGS_ALL) $(LDFLAGS) -o $@ $(CLIOBJ) $(B)/libtern.a $(LIBS)

$(B)/ternd: $(DOBJ) $(B)/libtern.a
	$(CC) $(CFLAGS_ALL) $(LDFLAGS) -o $@ $(DOBJ) $(B)/libtern.a $(LIBS)

# A test in cli/ or daemon/ links that folder's objects except main.o.
$(B)/%_test: %_test.c $(B)/libtern.a $(CLIOBJ) $(DOBJ) $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS) -o $@ $< \
	    $(filter-out $(B)/$(@D:$(B)/%=%)/main.o,$(filter $(B)/$(@D:$(B)/%=%)/%.o,$(CLIOBJ) $(DOBJ))) \
	    $(B)/libtern.a $(LIBS) $(TESTLIBS)

tests: $(TESTS)

# --- the two set-up commands of the README -----------------------------------

# Builds and runs ternd in the foreground on its built-in defaults.
run:
	@sh scripts/deps build
	@$(MAKE) --no-print-directory all
	./$(B)/ternd -v

# The whole suite: unit tests and integration tests, built with ASan+UBSan.
SANITIZE = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	   -fno-sanitize-recover=all
# The plain build (build/) is for the valgrind test: memcheck and ASan do
# not mix.
check:
	@sh scripts/deps test
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory B=build/check OPT="$(SANITIZE)" \
	    LDFLAGS="-fsanitize=address,undefined" all tests
	@sh tests/run build/check

# Unit tests only, sanitized (quick).
unit:
	@$(MAKE) --no-print-directory B=build/check OPT="$(SANITIZE)" \
	    LDFLAGS="-fsanitize=address,undefined" all tests
	@sh tests/run build/check unit

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8
	install -m 755 $(B)/tern $(DESTDIR)$(BINDIR)/tern
	install -m 755 $(B)/ternd $(DESTDIR)$(SBINDIR)/ternd
	for m in man/*.1; do [ -f "$$m" ] && install -m 644 $$m $(DESTDIR)$(MANDIR)/man1/ || :; done
	for m in man/*.5; do [ -f "$$m" ] && install -m 644 $$m $(DESTDIR)$(MANDIR)/man5/ || :; done
	for m in man/*.8; do [ -f "$$m" ] && install -m 644 $$m $(DESTDIR)$(MANDIR)/man8/ || :; done

install-sendmail: install
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/lib
	ln -sf $(BINDIR)/tern $(DESTDIR)$(SBINDIR)/sendmail
	ln -sf $(BINDIR)/tern $(DESTDIR)$(BINDIR)/mailq
	ln -sf $(BINDIR)/tern $(DESTDIR)$(PREFIX)/lib/sendmail

bench: all
	@sh bench/run

clean:
	rm -rf build

# --- fuzzing (libFuzzer) ------------------------------------------------------

# Every <module>/<name>_fuzz.c is a libFuzzer target linked with the library
# built by clang into build/fuzz/ (ASan + UBSan, UB fatal so the fuzzer sees
# it; leaks are reported by libFuzzer's leak check). `make fuzz` runs each
# target FUZZ_TIME seconds on a copy of its seeds (tests/fuzz/<name>/) in
# build/fuzz/corpus/<name>/, where what it finds stays between runs;
# `make fuzz-smoke` does the same for 30 s each. Both fail on any crash,
# leak or UB report; crashes go to build/fuzz/crash/. Needs clang and
# libclang-rt-14-dev. clang warns where gcc does not: the only flag added
# is -Wno-missing-field-initializers, for positional row initializers
# inside designated ones (smtp/engine.c's state table), which gcc accepts.
FUZZ_CC	 ?= clang
FUZZ_TIME ?= 60
FB	 = build/fuzz
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS = -g -O1 -fno-omit-frame-pointer $(FUZZ_SAN) $(WARN) \
	   -Wno-missing-field-initializers $(DEFS) \
	   $(shell pkg-config --cflags $(PKGS))
FUZZSRC	 = $(wildcard $(addsuffix /*_fuzz.c,$(LIBDIRS)))
FUZZBIN	 = $(FUZZSRC:%.c=$(FB)/%)
FUZZLOBJ = $(LIBSRC:%.c=$(FB)/%.o)

$(FB)/%.o: %.c $(HEADERS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FB)/libtern.a: $(FUZZLOBJ)
	@rm -f $@
	ar rcs $@ $(FUZZLOBJ)

$(FB)/%_fuzz: %_fuzz.c $(FB)/libtern.a $(HEADERS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< \
	    $(FB)/libtern.a $(LIBS)

fuzz-build: $(FUZZBIN)

fuzz: fuzz-build
	@sh tests/fuzz/run $(FB) $(FUZZ_TIME) $(FUZZBIN)

fuzz-smoke: fuzz-build
	@sh tests/fuzz/run $(FB) 30 $(FUZZBIN)

.PHONY: all tests run check unit install install-sendmail bench clean \
	fuzz-build fuzz fuzz-smoke
