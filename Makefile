# lua-gitlab: build for Lua 5.4 and LuaJIT from one source tree.
LUA54    ?= lua5.4
LUAJIT   ?= luajit
BUILD54  := build/5.4
BUILDJIT := build/jit
CC       ?= cc
WARN     := -std=c99 -Wall -Wextra -pedantic -Wmissing-prototypes -Wshadow
CFLAGS   ?= -O2 -g
ifeq ($(WERROR),1)
WARN += -Werror
endif
SAN_FLAGS :=
ifeq ($(SANITIZE),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -DGL_SANITIZE
endif
LIBS     := $(shell pkg-config --libs libcurl libssl libcrypto 2>/dev/null || echo -lcurl -lssl -lcrypto)
SRC      := $(sort $(wildcard src/*.c))
HDR      := $(wildcard src/*.h)
CFLAGS_54  = $(shell pkg-config --cflags lua5.4 2>/dev/null || echo -I/usr/include/lua5.4)
CFLAGS_JIT = $(shell pkg-config --cflags luajit 2>/dev/null || echo -I/usr/include/luajit-2.1)

# Debian packages a fresh machine needs (build, tests, demo). lua-cjson is
# for the test harness and the benchmarks only: the library needs none.
# LuaJIT is OpenResty's (luajit2, libluajit2-5.1-dev): Debian's nginx Lua
# module (libnginx-mod-http-lua, for the webhook receiver's spec and
# example) depends on lua-resty-core, which needs it and which conflicts
# with Debian's luajit packages. Both are LuaJIT 2.1 with one ABI; the
# library builds and passes its specs on either.
DEB_PKGS := lua5.4 liblua5.4-dev luajit2 libluajit2-5.1-dev lua-cjson lua-busted \
            luarocks libcurl4-openssl-dev libssl-dev pkg-config nodejs curl \
            openssl lua-check neovim lua-luv valgrind nginx-light libnginx-mod-http-lua

.PHONY: all build deps test demo clean check luacheck rockspec
all: build

build: $(BUILD54)/gitlab/core.so $(BUILDJIT)/gitlab/core.so

$(BUILD54)/gitlab/core.so: $(SRC) $(HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) $(SAN_FLAGS) -fPIC -shared $(CFLAGS_54) -o $@ $(SRC) $(LIBS)

$(BUILDJIT)/gitlab/core.so: $(SRC) $(HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) $(SAN_FLAGS) -fPIC -shared $(CFLAGS_JIT) -o $@ $(SRC) $(LIBS)

# Installs only what is missing; needs root (apt-get) on a fresh machine.
# $(call apt_install,PACKAGES): installs those not installed yet (sudo
# unless root); used by every deps target.
apt_install = @missing=""; for p in $(1); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

deps:
	$(call apt_install,$(DEB_PKGS))

# make test: what a new machine runs (installs the packages, then check).
# make check: build and run every suite, installing nothing and needing no
# root (packagers, build chroots); suites whose tool is missing (valgrind,
# luacheck) are skipped by spec/run.
test: deps
	$(MAKE) check

check:
	$(MAKE) WERROR=1 build
	bash spec/run

demo: deps build
	bash examples/run-demo.sh

# The rockspec (build.type "builtin", so luarocks compiles gitlab.core
# itself) lists every lua/**/*.lua and src/*.c: run this after adding,
# moving or removing one (spec/91 fails until then).
rockspec:
	$(LUA54) tools/rockspec.lua . > lua-gitlab-scm-1.rockspec.tmp
	mv lua-gitlab-scm-1.rockspec.tmp lua-gitlab-scm-1.rockspec

luacheck:
	luacheck lua spec examples bench tools

# what `luarocks make` leaves in the tree: objects and gitlab/core.so
clean:
	rm -rf build rock src/*.o gitlab/core.so
	@rmdir gitlab 2>/dev/null || true

-include mk/*.mk
