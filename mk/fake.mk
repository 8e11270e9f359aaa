# Fake GitLab server (spec/fake): its own spec under both interpreters, and
# a foreground instance on a fixed port for trying things by hand.
FAKE_PORT ?= 8089

.PHONY: fake-spec fake-server
fake-spec:
	$(LUA54) /usr/bin/busted spec/00-fake-server_spec.lua
	$(LUAJIT) /usr/bin/busted spec/00-fake-server_spec.lua

fake-server:
	node spec/fake/server.js --port $(FAKE_PORT) --no-stdin-exit
