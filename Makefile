# seam build. `make deps` installs Debian packages; `make` builds libseam.a, libseam.so,
# seam.pc and the `seam` command into $(BUILD); `make test` runs every test (plain build,
# then AddressSanitizer+UndefinedBehaviorSanitizer build, then bounded fuzzing).

CC      ?= cc
BUILD   ?= build
PREFIX  ?= /usr/local
FUZZ_SECONDS ?= 30

WARN    := -Wall -Wextra -Werror -Wshadow -Wvla -Wformat=2
CSTD    := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
OPT     ?= -O2
CFLAGS_ALL = $(CSTD) $(WARN) $(OPT) -g -fPIC -pthread -Iinclude -Isrc $(SANFLAGS) $(CFLAGS)
LDLIBS_CORE := -lm -lpthread
LDLIBS_NET  := -lcurl

ifeq ($(SAN),1)
  BUILD    := build-san
  OPT      := -O1
  SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
  LDFLAGS  += $(SANFLAGS)
endif

# Core engine: libc, libm and pthreads only, so it compiles unchanged to WebAssembly.
CORE_SRC := $(sort $(wildcard src/util/*.c src/format/*.c src/model/*.c src/tokenizer/*.c \
              src/kernels/*.c src/graph/*.c src/sample/*.c))
# Network parts (libcurl) live outside the core.
NET_SRC  := $(sort $(wildcard src/hub/*.c))
CLI_SRC  := $(sort $(wildcard cli/*.c))
TEST_SRC := $(sort $(wildcard tests/unit/*.c))

CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/%.o)
NET_OBJ  := $(NET_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o)

# Per-ISA kernel files get their target flags; the dispatcher picks at run time.
ISA_AVX2   := -mavx2 -mfma -mf16c
ISA_AVX512 := -mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma -mf16c
$(BUILD)/src/kernels/%_avx2.o:   EXTRA := $(ISA_AVX2)
$(BUILD)/src/kernels/%_avx512.o: EXTRA := $(ISA_AVX512)

.PHONY: all deps test test-plain test-san fuzz bench clean install
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
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|0.1.0|g' $< > $@

$(BUILD)/seam: $(CLI_OBJ) $(BUILD)/libseam.a
	$(CC) $(LDFLAGS) -pthread -o $@ $(CLI_OBJ) $(BUILD)/libseam.a $(LDLIBS_NET) $(LDLIBS_CORE)

$(BUILD)/seam_tests: $(TEST_OBJ) $(BUILD)/libseam.a
	$(CC) $(LDFLAGS) -pthread -o $@ $(TEST_OBJ) $(BUILD)/libseam.a $(LDLIBS_NET) $(LDLIBS_CORE)

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
	@rm -f $(BUILD)/test-results.txt build-san/test-results.txt build-fuzz/test-results.txt
	-$(MAKE) --no-print-directory test-plain
	-$(MAKE) --no-print-directory test-san
	-$(MAKE) --no-print-directory fuzz
	@tests/summary.sh $(BUILD)/test-results.txt build-san/test-results.txt build-fuzz/test-results.txt

bench: all
	bench/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 $(BUILD)/libseam.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libseam.so $(DESTDIR)$(PREFIX)/lib/libseam.so.0
	ln -sf libseam.so.0 $(DESTDIR)$(PREFIX)/lib/libseam.so
	install -m 644 include/seam.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(BUILD)/seam.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/
	install -m 755 $(BUILD)/seam $(DESTDIR)$(PREFIX)/bin/

clean:
	rm -rf build build-san build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
