# JSON decoder speed against cjson on W2's pages (bench/json.lua), under
# both interpreters. Pages come from bench/gen.js into build/json-bench/data.
.PHONY: bench-json
bench-json: build
	LUA_CPATH="$(BUILD54)/?.so;;" $(LUA54) bench/json.lua build/json-bench/data $(JSON_BENCH_RUNS)
	LUA_CPATH="$(BUILDJIT)/?.so;;" $(LUAJIT) bench/json.lua build/json-bench/data $(JSON_BENCH_RUNS)
