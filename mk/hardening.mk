# Hardening: sanitizers, valgrind, fuzzing, fault matrix, soak.
#   make check-asan       whole spec suite under ASan+UBSan (lua5.4) + C tests
#   make check-valgrind   spec suite under valgrind memcheck (lua5.4);
#                         VALGRIND_SPECS="spec/10-client_spec.lua ..." for a subset
#   make fuzz             fuzz-lib, then fuzz-wire
#   make fuzz-lib         every libFuzzer target for FUZZ_TIME seconds (clang)
#   make fuzz-wire        broken HTTP responses from fuzz/wire/server.js into
#                         the ASan build, WIRE_REQUESTS per seed in WIRE_SEEDS
#   make fuzz-replay      the seed corpora through the targets (any cc, ASan)
#   make faults           fault matrix against the fake server, as a table
#   make soak             100,000 requests + 1,000 concurrent async (benchmark)
# See docs/reliability.md.
.PHONY: hardening-deps check-asan check-valgrind fuzz fuzz-lib fuzz-build fuzz-replay fuzz-wire faults soak

# Debian packages these targets need beyond `make deps` (installed when
# missing; root or sudo).
HARDENING_PKGS := valgrind clang libclang-rt-14-dev
hardening-deps:
	$(call apt_install,$(HARDENING_PKGS))

FUZZ_TARGETS := link headers url encode query json json_encode base64
FUZZ_TIME    ?= 60
FUZZ_CC      ?= clang
FUZZ_DIR     := build/fuzz
FUZZ_LIBS     = $(shell pkg-config --libs lua5.4 2>/dev/null || echo -llua5.4) $(LIBS)

$(FUZZ_DIR)/fuzz_%: fuzz/driver.c fuzz/targets.c $(SRC) $(HDR) | hardening-deps
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) -g -O1 -std=c99 -fsanitize=fuzzer,address,undefined \
	  -fno-sanitize-recover=undefined -DGL_FUZZ_TARGET=gl_fuzz_$* -I src \
	  $(CFLAGS_54) -o $@ fuzz/driver.c $(SRC) $(FUZZ_LIBS)

fuzz-build: hardening-deps $(addprefix $(FUZZ_DIR)/fuzz_,$(FUZZ_TARGETS))

# New inputs go to build/fuzz/corpus/<t> (the committed seeds stay small);
# a crash leaves build/fuzz/crash-<t>-*: copy it into fuzz/corpus/<t>/ once
# fixed, so fuzz-replay keeps it as a regression test.
fuzz: fuzz-lib fuzz-wire

fuzz-lib: fuzz-build
	@fail=0; for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_DIR)/corpus/$$t; \
	  echo "== fuzz $$t ($(FUZZ_TIME) s)"; \
	  if $(FUZZ_DIR)/fuzz_$$t -max_total_time=$(FUZZ_TIME) -max_len=4096 -timeout=10 \
	      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/crash-$$t- \
	      $(FUZZ_DIR)/corpus/$$t fuzz/corpus/$$t >$(FUZZ_DIR)/$$t.log 2>&1; then \
	    grep -aE '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' $(FUZZ_DIR)/$$t.log; \
	  else \
	    fail=1; grep -aE -A15 'ERROR|runtime error|==[0-9]+==' $(FUZZ_DIR)/$$t.log | head -40; \
	    echo "fuzz $$t: FAILED (log $(FUZZ_DIR)/$$t.log; reproducer $(FUZZ_DIR)/crash-$$t-*)"; \
	  fi; \
	done; exit $$fail

WIRE_SEEDS    ?= 1 2 3 4 5
WIRE_REQUESTS ?= 3000
fuzz-wire: build/asan/lua5.4-asan
	@$(MAKE) -s SANITIZE=1 BUILD54=build/asan build/asan/gitlab/core.so >/dev/null
	@mkdir -p $(FUZZ_DIR)
	@fail=0; for s in $(WIRE_SEEDS); do \
	  if ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	      LSAN_OPTIONS=suppressions=tools/lsan.supp:print_suppressions=0 \
	      LUA_PATH="lua/?.lua;lua/?/init.lua;;" LUA_CPATH="build/asan/?.so;;" \
	      timeout 900 build/asan/lua5.4-asan fuzz/wire/client.lua --seed $$s \
	      --requests $(WIRE_REQUESTS) --last $(FUZZ_DIR)/wire-last-$$s.bin \
	      >$(FUZZ_DIR)/wire-$$s.log 2>&1; then \
	    echo "fuzz-wire seed $$s: $(WIRE_REQUESTS) requests, $$(tail -n 1 $(FUZZ_DIR)/wire-$$s.log)"; \
	  else \
	    fail=1; tail -n 40 $(FUZZ_DIR)/wire-$$s.log; \
	    echo "fuzz-wire seed $$s: FAILED (log $(FUZZ_DIR)/wire-$$s.log, last response $(FUZZ_DIR)/wire-last-$$s.bin)"; \
	  fi; \
	done; exit $$fail

fuzz-replay:
	@mkdir -p build
	$(CC) -std=c99 -Wall -Wextra -pedantic -Werror -g -fsanitize=address,undefined \
	  -I src $(CFLAGS_54) -o build/fuzz_corpus_test spec/c/fuzz_corpus_test.c $(SRC) \
	  $(FUZZ_LIBS)
	./build/fuzz_corpus_test

check-asan:
	bash tools/check-asan.sh

# lua5.4 with the ASan+UBSan runtime linked in (tools/asan-lua.c): runs
# busted over build/asan without LD_PRELOAD, which children inherit (curl(1)
# hangs at start with libasan preloaded).
build/asan/lua5.4-asan: tools/asan-lua.c
	@mkdir -p $(dir $@)
	$(CC) -std=c99 -Wall -Wextra -pedantic -g -fsanitize=address,undefined \
	  $(CFLAGS_54) -o $@ tools/asan-lua.c $(shell pkg-config --libs lua5.4 2>/dev/null || echo -llua5.4)

check-valgrind: hardening-deps $(BUILD54)/gitlab/core.so
	bash tools/check-valgrind.sh $(VALGRIND_SPECS)

faults: $(BUILD54)/gitlab/core.so
	LUA_PATH="lua/?.lua;lua/?/init.lua;tools/?.lua;;" LUA_CPATH="$(BUILD54)/?.so;;" \
	  $(LUA54) tools/faults.lua

# SOAK_LUA=luajit runs it under LuaJIT (build/jit).
SOAK_LUA ?= $(LUA54)
soak: build
	LUA_PATH="lua/?.lua;lua/?/init.lua;;" \
	  LUA_CPATH="$(if $(findstring jit,$(SOAK_LUA)),$(BUILDJIT),$(BUILD54))/?.so;;" \
	  $(SOAK_LUA) bench/soak/soak.lua $(SOAK_ARGS)
