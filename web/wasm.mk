# The browser edge: seam compiled to WebAssembly with Debian's emscripten (included by the
# top-level Makefile).
#
#   make wasm        build/web/: seam.mjs (the ES module to import), seam.d.ts, and two
#                    builds of the same C sources with SIMD128 kernels: seam.js + seam.wasm
#                    (one thread) and seam-mt.js + seam-mt.wasm + seam-mt.worker.js (pthreads,
#                    picked by seam.mjs where SharedArrayBuffer works: cross-origin isolated
#                    pages and node), plus the demo page.
#   make wasm-test   the unit tests (tests/unit) built with emcc and run under node, then
#                    tests/wasm/wasm_node.sh; results in build-wasm/test-results.txt.
#
# Emscripten rather than clang + wasi-libc: Debian ships emscripten 3.1.6 complete (libc with
# pthreads, a JS runtime, a filesystem to hand the model files to the unchanged loader), while
# Debian's wasi-libc has no pthreads and no browser glue.

EMCC       ?= emcc
NODE       ?= node
WASM_BUILD ?= build-wasm
WEB_OUT    ?= build/web
# emcc's JS optimizer needs acorn, which Debian installs outside node's default path.
EMCC_ENV   := NODE_PATH=$${NODE_PATH:-/usr/share/nodejs}
# Emscripten's node glue would use node 20's fetch() on a file path; seam.mjs passes the
# .wasm bytes itself, the raw test binary needs the flag.
NODE_FLAGS ?= --no-experimental-fetch

WASM_CFLAGS := $(CSTD) $(WARN) -Iinclude -Isrc -msimd128
# The core plus the split wire format (plain libc, meant for the browser edge); the curl
# hub, sockets and the mmap RSS test do not apply in a browser.
WASM_CORE_SRC := $(CORE_SRC) $(wildcard src/net/wire.c)
WASM_TEST_SRC := $(filter-out tests/unit/test_mmap.c,$(TEST_SRC))
WEB_SRC       := web/seam_wasm.c

WASM_TEST_OBJ := $(WASM_CORE_SRC:%.c=$(WASM_BUILD)/test/%.o) $(WASM_TEST_SRC:%.c=$(WASM_BUILD)/test/%.o)
WASM_ST_OBJ   := $(WASM_CORE_SRC:%.c=$(WASM_BUILD)/st/%.o) $(WEB_SRC:%.c=$(WASM_BUILD)/st/%.o)
WASM_MT_OBJ   := $(WASM_CORE_SRC:%.c=$(WASM_BUILD)/mt/%.o) $(WEB_SRC:%.c=$(WASM_BUILD)/mt/%.o)

$(WASM_BUILD)/test/%.o: %.c
	@mkdir -p $(dir $@)
	$(EMCC_ENV) $(EMCC) $(WASM_CFLAGS) -O2 -pthread -MMD -MP -c $< -o $@
$(WASM_BUILD)/st/%.o: %.c
	@mkdir -p $(dir $@)
	$(EMCC_ENV) $(EMCC) $(WASM_CFLAGS) -O3 -MMD -MP -c $< -o $@
$(WASM_BUILD)/mt/%.o: %.c
	@mkdir -p $(dir $@)
	$(EMCC_ENV) $(EMCC) $(WASM_CFLAGS) -O3 -pthread -MMD -MP -c $< -o $@

# The relaxed-SIMD q8 and q4 prefill tiles (src/kernels/quant_wasm_relaxed.c): a module of their
# own, built by Debian's clang-19 because emscripten 3.1.6's clang 14 and binaryen 108 know
# only the pre-standard relaxed opcodes. No libc, stack or data; it imports seam's memory,
# shared in the pthreads builds. Its bytes travel inside seam.js as a pre-js (rx_pre.js).
CLANG_RX   ?= clang-19
WASM_LD_RX ?= wasm-ld-19
RX_CFLAGS  := $(CSTD) $(WARN) -Isrc -O3 -ffreestanding -msimd128 -mrelaxed-simd
RX_SRC     := src/kernels/quant_wasm_relaxed.c src/kernels/quant_wasm_relaxed.h

$(WASM_BUILD)/rx/st.wasm: $(RX_SRC)
	@mkdir -p $(dir $@)
	$(CLANG_RX) --target=wasm32 $(RX_CFLAGS) -c $< -o $(WASM_BUILD)/rx/st.o
	$(WASM_LD_RX) --no-entry --import-memory -o $@ $(WASM_BUILD)/rx/st.o
$(WASM_BUILD)/rx/mt.wasm: $(RX_SRC)
	@mkdir -p $(dir $@)
	$(CLANG_RX) --target=wasm32 $(RX_CFLAGS) -matomics -mbulk-memory -c $< -o $(WASM_BUILD)/rx/mt.o
	$(WASM_LD_RX) --no-entry --import-memory --shared-memory --max-memory=4294967296 -o $@ $(WASM_BUILD)/rx/mt.o
$(WASM_BUILD)/rx/pre-%.js: $(WASM_BUILD)/rx/%.wasm web/rx_pre.js
	{ printf "var SEAM_RX_WASM = '%s';\n" "$$(base64 -w0 $<)"; cat web/rx_pre.js; } > $@.tmp && mv $@.tmp $@

RX_LINK_ST := --js-library web/rx_lib.js --pre-js $(WASM_BUILD)/rx/pre-st.js
RX_LINK_MT := --js-library web/rx_lib.js --pre-js $(WASM_BUILD)/rx/pre-mt.js

# Up to 4 GiB: wasm32's whole address space, for GPT-2 medium in f32 and the like. The
# stacks are named, not left to emscripten's defaults (which later releases cut to 64 KiB,
# with no overflow check): the q8 prefill tiles keep ~280 KiB of widened operands on the
# stack of whichever thread runs them (src/kernels/quant_wasm.c).
WASM_MEM := -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=4GB -sINITIAL_MEMORY=64MB -sTOTAL_STACK=5MB \
  -sDEFAULT_PTHREAD_STACK_SIZE=2MB

# The unit tests read fixtures through node's real filesystem (NODERAWFS), and four
# pre-started workers let pthread_create return without going back to the event loop.
$(WASM_BUILD)/seam_tests.js: $(WASM_TEST_OBJ) web/test/node_env.js $(WASM_BUILD)/rx/pre-mt.js web/rx_lib.js
	$(EMCC_ENV) $(EMCC) -O2 -msimd128 -pthread -sPTHREAD_POOL_SIZE=4 -sNODERAWFS=1 -sEXIT_RUNTIME=1 $(WASM_MEM) \
	  --pre-js web/test/node_env.js $(RX_LINK_MT) -o $@ $(WASM_TEST_OBJ) -lm

WEB_EXPORTS := _malloc,_free,_sw_last_error,_sw_open,_sw_close,_sw_info,_sw_weight_bytes,_sw_tokenize,_sw_token_bytes,_sw_detokenize,_sw_gen_begin,_sw_gen_next,_sw_logits,_sw_forward,_sw_simd,_sw_rx,_sw_rx_selftest,_sw_enc_open,_sw_enc_close,_sw_enc_info,_sw_enc_weight_bytes,_sw_enc_embed,_sw_enc_tokenize,_sw_split_open,_sw_split_sampler,_sw_split_tail,_sw_split_head,_sw_split_msg_len
WEB_LINK := -O3 -msimd128 -sMODULARIZE=1 -sEXPORT_NAME=createSeamCore -sENVIRONMENT=web,worker,node \
  -sFORCE_FILESYSTEM=1 -sEXPORTED_FUNCTIONS=$(WEB_EXPORTS) \
  -sEXPORTED_RUNTIME_METHODS=FS,UTF8ToString,stringToUTF8,lengthBytesUTF8 $(WASM_MEM)

$(WEB_OUT)/seam.js: $(WASM_ST_OBJ) $(WASM_BUILD)/rx/pre-st.js web/rx_lib.js
	@mkdir -p $(dir $@)
	$(EMCC_ENV) $(EMCC) $(WEB_LINK) $(RX_LINK_ST) -o $@ $(WASM_ST_OBJ) -lm

# The worker pool is sized by seam.mjs at instantiation (threads - 1), so pthread_create
# never waits for a worker script to load while C code holds the thread.
$(WEB_OUT)/seam-mt.js: $(WASM_MT_OBJ) $(WASM_BUILD)/rx/pre-mt.js web/rx_lib.js
	@mkdir -p $(dir $@)
	$(EMCC_ENV) $(EMCC) $(WEB_LINK) $(RX_LINK_MT) -pthread '-sPTHREAD_POOL_SIZE=(Module.seamPoolSize|0)' -o $@ $(WASM_MT_OBJ) -lm

WEB_STATIC := $(WEB_OUT)/seam.mjs $(WEB_OUT)/seam.d.ts $(WEB_OUT)/index.html $(WEB_OUT)/app.js
$(WEB_OUT)/%: web/%
	@mkdir -p $(dir $@)
	cp $< $@

.PHONY: wasm wasm-test wasm-test-unit wasm-test-node wasm-browser-test wasm-bench
wasm: $(WEB_OUT)/seam.js $(WEB_OUT)/seam-mt.js $(WEB_STATIC)

wasm-test-unit: $(WASM_BUILD)/seam_tests.js
	@rm -f $(WASM_BUILD)/unit-results.txt
	-SEAM_FIXTURES=$${SEAM_FIXTURES:-$(CURDIR)/../shared/fixtures} SEAM_TEST_RESULTS=$(CURDIR)/$(WASM_BUILD)/unit-results.txt \
	  $(NODE) $(NODE_FLAGS) $(WASM_BUILD)/seam_tests.js
	@if [ -s $(WASM_BUILD)/unit-results.txt ]; then sed 's/^unit /wasm /' $(WASM_BUILD)/unit-results.txt; \
	  else echo "wasm 0 1"; fi >> $(WASM_BUILD)/test-results.txt

wasm-test-node: wasm
	@if SEAM_WEB=$(WEB_OUT) SEAM_FIXTURES=$${SEAM_FIXTURES:-$(CURDIR)/../shared/fixtures} bash tests/wasm/wasm_node.sh; \
	  then r="1 0"; else r="0 1"; fi; echo "wasm-node $$r" >> $(WASM_BUILD)/test-results.txt

# The whole WebAssembly suite; ends with the `N passed, N failed` line.
wasm-test:
	@mkdir -p $(WASM_BUILD) && rm -f $(WASM_BUILD)/test-results.txt
	@$(MAKE) --no-print-directory wasm-test-unit
	@$(MAKE) --no-print-directory wasm-test-node
	@if $(MAKE) --no-print-directory wasm-browser-test; then r="1 0"; else r="0 1"; fi; \
	  echo "wasm-browser $$r" >> $(WASM_BUILD)/test-results.txt
	@tests/summary.sh $(WASM_BUILD)/test-results.txt

# Headless Chromium against the demo page (needs web/node_modules/playwright-core).
wasm-browser-test: wasm
	SEAM_WEB=$(WEB_OUT) SEAM_FIXTURES=$${SEAM_FIXTURES:-$(CURDIR)/../shared/fixtures} bash tests/wasm/wasm_browser.sh

-include $(shell find $(WASM_BUILD) -name '*.d' 2>/dev/null)
