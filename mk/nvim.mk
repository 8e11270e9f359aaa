# Neovim example plugin (examples/nvim): try it against the fake server,
# or run only the non-blocking specs (spec/30 async, spec/31 headless nvim).
.PHONY: nvim-demo nvim-test
nvim-demo: build
	bash examples/nvim/demo.sh

nvim-test: build
	LUA_CPATH="$(BUILD54)/?.so;;" $(LUA54) /usr/bin/busted spec/30-async_spec.lua spec/31-nvim_spec.lua
	LUA_CPATH="$(BUILDJIT)/?.so;;" $(LUAJIT) /usr/bin/busted spec/30-async_spec.lua spec/31-nvim_spec.lua
