# seam build. `make deps` installs Debian packages; `make` builds libseam.a, libseam.so,
# seam.pc and the `seam` command into $(BUILD); `make test` runs every test (plain build,
# then AddressSanitizer+UndefinedBehaviorSanitizer build, then bounded fuzzing).

CC      ?= cc
# `make NET=0` (below) builds into its own folder, so the two builds never mix objects.
NET     ?= 1
ifeq ($(NET),0)
BUILD   ?= build-nonet
else
BUILD   ?= build
endif
PREFIX  ?= /usr/local
FUZZ_SECONDS ?= 30

WARN    := -Wall -Wextra -Werror -Wshadow -Wvla -Wformat=2
CSTD    := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
OPT     ?= -O2
CFLAGS_ALL = $(CSTD) $(WARN) $(OPT) -g -fPIC -pthread -Iinclude -Isrc $(SANFLAGS) $(CFLAGS)
LDLIBS_CORE := -lm -lpthread
LDLIBS_NET  ?= -lcurl -lmicrohttpd

ifeq ($(SAN),1)
  BUILD    := build-san
  OPT      := -O1
  SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
  LDFLAGS  += $(SANFLAGS)
endif

# Core engine: libc, libm and pthreads only, so it compiles unchanged to WebAssembly.
CORE_SRC := $(sort $(wildcard src/util/*.c src/format/*.c src/model/*.c src/tokenizer/*.c \
              src/kernels/*.c src/graph/*.c src/sample/*.c src/quant/*.c))
# Network parts (libcurl, libmicrohttpd) live outside the core. `make NET=0` leaves them
# out (only the plain-libc wire format stays): the CLI keeps its local commands and
# pull/serve/edge say they need a network build (cli/no_net.c).
ifeq ($(NET),0)
  NET_SRC  := src/net/wire.c
  CLI_SRC  := $(filter-out cli/cmd_pull.c cli/cmd_serve.c cli/cmd_edge.c,$(sort $(wildcard cli/*.c)))
  LDLIBS_NET :=
else
  NET_SRC  := $(sort $(wildcard src/hub/*.c src/net/*.c))
  CLI_SRC  := $(filter-out cli/no_net.c,$(sort $(wildcard cli/*.c)))
endif
TEST_SRC := $(sort $(wildcard tests/unit/*.c))

CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/%.o)
NET_OBJ  := $(NET_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o)

# Per-ISA kernel files get their target flags; the dispatcher picks at run time. On other
# architectures those files compile to nothing (they are guarded by #if).
TARGET_ARCH_NAME := $(shell $(CC) -dumpmachine 2>/dev/null)
ifneq ($(filter x86_64%,$(TARGET_ARCH_NAME)),)
ISA_AVX2   := -mavx2 -mfma -mf16c
ISA_AVX512 := -mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma -mf16c
$(BUILD)/src/kernels/%_avx2.o:   EXTRA := $(ISA_AVX2)
$(BUILD)/src/kernels/%_avx512.o: EXTRA := $(ISA_AVX512)
ISA_AVX512VNNI := $(ISA_AVX512) -mavx512vnni
$(BUILD)/src/kernels/%_avx512vnni.o: EXTRA := $(ISA_AVX512VNNI)
$(BUILD)/src/kernels/%_avxvnni.o: EXTRA := $(ISA_AVX2) -mavxvnni
ISA_AMX := $(ISA_AVX512) -mavx512bf16 -mamx-tile -mamx-bf16
$(BUILD)/src/kernels/%_amx.o: EXTRA := $(ISA_AMX)
endif

.PHONY: all deps test test-plain test-san test-neon fuzz bench clean install
all: $(BUILD)/libseam.a $(BUILD)/libseam.so $(BUILD)/seam.pc $(BUILD)/seam

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(EXTRA) -MMD -MP -c $< -o $@

$(BUILD)/libseam.a: $(CORE_OBJ) $(NET_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libseam.so: $(CORE_OBJ) $(NET_OBJ)
	$(CC) -shared -Wl,-soname,libseam.so.0 $(LDFLAGS) -o $@ $^ $(LDLIBS_NET) $(LDLIBS_CORE)

$(BUILD)/seam.pc: seam.pc.in
	@mkdir -p $(BUILD)
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|0.1.0|g' -e 's|@LIBS_PRIVATE@|$(LDLIBS_NET) $(LDLIBS_CORE)|g' $< > $@

$(BUILD)/seam: $(CLI_OBJ) $(BUILD)/libseam.a
	$(CC) $(LDFLAGS) -pthread -o $@ $(CLI_OBJ) $(BUILD)/libseam.a $(LDLIBS_NET) $(LDLIBS_CORE)

$(BUILD)/seam_tests: $(TEST_OBJ) $(BUILD)/libseam.a
	$(CC) $(LDFLAGS) -pthread -o $@ $(TEST_OBJ) $(BUILD)/libseam.a $(LDLIBS_NET) $(LDLIBS_CORE)

# Core-only test binary (no libcurl), static so it runs under qemu-user for other ISAs.
# The wire format (src/net/wire.c) is plain libc, so it comes along.
$(BUILD)/seam_tests_core: $(TEST_OBJ) $(CORE_OBJ) $(BUILD)/src/net/wire.o
	$(CC) $(LDFLAGS) -static -pthread -o $@ $^ $(LDLIBS_CORE)

# The NEON kernels, built with Debian's aarch64 cross compiler and run under qemu-user:
# ARM edge devices are covered without ARM hardware. -O1 because Debian's aarch64 gcc 12
# crashes in its loop vectoriser on tests/unit/test_quant.c.
NEON_CC ?= aarch64-linux-gnu-gcc
NEON_TESTS ?= kernels gpt2_wide gpt2_context pool sampler quant
test-neon:
	@mkdir -p build-neon && rm -f build-neon/test-results.txt
	$(MAKE) --no-print-directory CC=$(NEON_CC) BUILD=build-neon OPT=-O1 build-neon/seam_tests_core
	SEAM_FIXTURES=$${SEAM_FIXTURES:-../shared/fixtures} SEAM_TEST_RESULTS=$(CURDIR)/build-neon/test-results.txt \
	  qemu-aarch64 -L /usr/aarch64-linux-gnu build-neon/seam_tests_core $(NEON_TESTS)

deps:
	tools/install-deps.sh

test-plain: all $(BUILD)/seam_tests
	tests/run.sh $(BUILD)

test-san:
	$(MAKE) SAN=1 all build-san/seam_tests
	tests/run.sh build-san

fuzz:
	tools/fuzz.sh $(FUZZ_SECONDS)

# The whole suite; tests/summary.sh adds up every part into one `N passed, N failed` line.
test:
	@rm -f $(BUILD)/test-results.txt build-san/test-results.txt build-fuzz/test-results.txt build-neon/test-results.txt \
	  build-wasm/test-results.txt
	-$(MAKE) --no-print-directory test-plain
	-$(MAKE) --no-print-directory test-san
	-$(MAKE) --no-print-directory test-neon
	-$(MAKE) --no-print-directory wasm-test
	-$(MAKE) --no-print-directory fuzz
	@tests/summary.sh $(BUILD)/test-results.txt build-san/test-results.txt build-neon/test-results.txt \
	  build-wasm/test-results.txt build-fuzz/test-results.txt

bench: all
	bench/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 $(BUILD)/libseam.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libseam.so $(DESTDIR)$(PREFIX)/lib/libseam.so.0
	ln -sf libseam.so.0 $(DESTDIR)$(PREFIX)/lib/libseam.so
	install -m 644 include/seam.h include/seam_encoder.h include/seam_hub.h include/seam_net.h $(DESTDIR)$(PREFIX)/include/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|0.1.0|g' -e 's|@LIBS_PRIVATE@|$(LDLIBS_NET) $(LDLIBS_CORE)|g' seam.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/seam.pc
	install -m 755 $(BUILD)/seam $(DESTDIR)$(PREFIX)/bin/

clean:
	rm -rf build build-san build-fuzz build-neon build-wasm

# `make wasm`: the browser edge (rules live with the web sources).
-include web/wasm.mk

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
