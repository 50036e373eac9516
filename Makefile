# chat: a live customer-service chat. Plain GNU make; see README.md.
#   make            build every program into build/
#   make run        install what is missing, build, serve the demo on PORT (8080)
#   make test       install what is missing, build, run every test
#   make asan       the same tests against an address/UB-sanitizer build
#   make bench      the benchmarks of README.md
#   make install    install under PREFIX (/usr/local), DESTDIR for staging
#   make clean      remove build/
# Local overrides (CC, CFLAGS, ...) go in config.mk.
-include config.mk

CC ?= cc
BUILD ?= build
CFLAGS ?= -O2 -g
SANITIZE ?=

PKGS = sqlite3 jansson libsodium
WARNINGS = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes
SQL_DIR ?= $(abspath sql)

# pkg-config runs once, when first needed, so that `make run` on a bare
# machine can install pkg-config and the libraries before it is asked.
PKG_CFLAGS = $(eval PKG_CFLAGS := $$(shell pkg-config --cflags $(PKGS)))$(PKG_CFLAGS)
PKG_LIBS = $(eval PKG_LIBS := $$(shell pkg-config --libs $(PKGS)))$(PKG_LIBS)
# libcurl only for the mail sender: chat-ws, one process per connection,
# does not load it.
CURL_CFLAGS = $(eval CURL_CFLAGS := $$(shell pkg-config --cflags libcurl))$(CURL_CFLAGS)
CURL_LIBS = $(eval CURL_LIBS := $$(shell pkg-config --libs libcurl))$(CURL_LIBS)

ifneq ($(SANITIZE),)
SAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
CFLAGS := -O1 -g
endif

ALL_CFLAGS = -std=c11 $(WARNINGS) $(CFLAGS) $(SAN_FLAGS) -D_DEFAULT_SOURCE \
	-DCHAT_DEFAULT_SQL_DIR='"$(SQL_DIR)"' $(PKG_CFLAGS) -MMD -MP
ALL_LDFLAGS = $(LDFLAGS) $(SAN_FLAGS)

LIB_OBJ = $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard lib/*.c))
API_OBJ = $(patsubst %.c,$(BUILD)/obj/%.o,$(filter-out cgi-bin/authorizer.c,$(wildcard cgi-bin/*.c)))
WS_OBJ = $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard ws-handler/*.c))
CTL_OBJ = $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard chatctl/*.c))
MAIL_OBJ = $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard mail-sender/*.c))
BENCH_PROGRAMS = $(BUILD)/wsload $(BUILD)/echo-handler $(BUILD)/fcgi-hello
WSLOAD_OBJ = $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard bench/wsload*.c))
UNIT_TESTS = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
PROGRAMS = $(BUILD)/chat-api $(BUILD)/chat-authorizer $(BUILD)/chat-ws \
	$(BUILD)/chatctl $(BUILD)/chat-mail

PREFIX ?= /usr/local
# A sanitizer build's objects (make asan runs make install too) must not
# be linked into a plain one later, nor the other way round.
INSTALL_BUILD = build/install$(if $(SANITIZE),-asan)

.PHONY: all deps test-deps run test unit-tests asan bench install clean
# Keep the object files of the unit tests between runs.
.SECONDARY:

all: $(PROGRAMS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libchat.a: $(LIB_OBJ)
	$(AR) rcs $@ $^

$(BUILD)/chat-api: $(API_OBJ) $(BUILD)/libchat.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lfcgi $(PKG_LIBS)

$(BUILD)/chat-authorizer: $(BUILD)/obj/cgi-bin/authorizer.o $(BUILD)/libchat.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lfcgi $(PKG_LIBS)

# chat-ws runs once per connection. Linked statically it has no dynamic
# loader to run and no libraries to relocate: it starts sooner, and each
# copy keeps about 100 KB less memory of its own. A sanitizer build
# cannot be static. (The linker warns that SQLite's loader of extensions,
# which chat-ws never calls, would need glibc's shared libraries.)
ifeq ($(SANITIZE),)
WS_LDFLAGS = -static
WS_LIBS = $(PKG_LIBS) -lm -pthread
else
WS_LIBS = $(PKG_LIBS)
endif

# (Relinked when the Makefile changes: how it is linked is decided here.)
$(BUILD)/chat-ws: $(WS_OBJ) $(BUILD)/libchat.a Makefile
	$(CC) $(ALL_LDFLAGS) $(WS_LDFLAGS) -o $@ $(WS_OBJ) $(BUILD)/libchat.a $(WS_LIBS)

$(BUILD)/chatctl: $(CTL_OBJ) $(BUILD)/libchat.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/obj/mail-sender/%.o: ALL_CFLAGS += $(CURL_CFLAGS)

$(BUILD)/chat-mail: $(MAIL_OBJ) $(BUILD)/libchat.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CURL_LIBS)

$(BENCH_PROGRAMS): $(BUILD)/%: $(BUILD)/obj/bench/%.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lfcgi $(PKG_LIBS)

# wsload is several files; the rule above links them all ($^).
$(BUILD)/wsload: $(WSLOAD_OBJ)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(BUILD)/libchat.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lfcgi $(PKG_LIBS) -lcmocka

unit-tests: $(UNIT_TESTS)

deps:
	@setup/install-deps

test-deps:
	@setup/install-deps --tests

run: deps
	@$(MAKE) --no-print-directory all
	@CHAT_BUILD_DIR=$(abspath $(BUILD)) exec server-config/run

test: test-deps
	@$(MAKE) --no-print-directory all unit-tests
	@tests/run-all $(BUILD)

asan:
	@$(MAKE) --no-print-directory BUILD=build/asan SANITIZE=1 test

bench: deps
	@$(MAKE) --no-print-directory all $(BENCH_PROGRAMS)
	@CHAT_BUILD_DIR=$(abspath $(BUILD)) bench/run
	@CHAT_BUILD_DIR=$(abspath $(BUILD)) bench/ws-run
	@CHAT_BUILD_DIR=$(abspath $(BUILD)) CHAT_DB_SYNC=full BENCH_HOLD=100 \
	    BENCH_RESULTS=bench/results/ws-sync-full.txt bench/ws-run
	@CHAT_BUILD_DIR=$(abspath $(BUILD)) bench/data-run

# Programs of their own for the install, whose default migrations directory
# is the installed one; config.c is recompiled each time, for the PREFIX.
install:
	@rm -f $(INSTALL_BUILD)/obj/lib/config.o
	@$(MAKE) --no-print-directory BUILD=$(INSTALL_BUILD) \
	    SQL_DIR=$(PREFIX)/share/chat/sql all
	@PREFIX=$(PREFIX) setup/install $(INSTALL_BUILD)

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
