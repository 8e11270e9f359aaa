# make bench-files: 1 GiB download and upload through lua-gitlab against
# the fake GitLab on loopback; prints peak RSS per Lua process (target
# under 32 MiB) and writes build/bench/files.md. See bench/files/run.sh.
.PHONY: bench-files
bench-files: build
	BENCH_FILES_LUAS="$(LUA54) $(LUAJIT)" bash bench/files/run.sh
