# make bench: benchmarks against peers and the libcurl floor (bench/run.sh).
# Installs what it needs (Debian packages, npm's @gitbeaker/rest into
# bench/node_modules), builds the floor, the go-gitlab peer and the library,
# serves pre-generated pages from nginx on 127.0.0.1 and prints a Markdown
# table (also written to build/bench/report.md). Runs every workload with
# client and server on two CPUs and on one (BENCH_PIN=both). Knobs:
# BENCH_RUNS, BENCH_W0_RUNS, BENCH_WORKLOADS, BENCH_CLIENTS, BENCH_NO_DEPS,
# BENCH_PIN (see bench/run.sh).
.PHONY: bench bench-quick bench-report
bench:
	LUA54=$(LUA54) LUAJIT=$(LUAJIT) bash bench/run.sh

# one run of each, for checking the harness itself
bench-quick:
	BENCH_RUNS=1 BENCH_W0_RUNS=$${BENCH_W0_RUNS:-2} LUA54=$(LUA54) LUAJIT=$(LUAJIT) bash bench/run.sh

# the report of the last run, again
bench-report:
	$(LUA54) bench/report.lua build/bench/results.tsv build/bench/capacity.tsv build/bench/meta.txt build/bench/probe.tsv build/bench/ir.tsv
