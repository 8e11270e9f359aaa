-- luacheck settings for `luacheck lua spec examples bench tools`
-- (make luacheck). Standard globals per directory; no globals of our own.

-- the library: Lua 5.4 and LuaJIT from the same source, so only what both
-- have; the few compat probes (`table.unpack or unpack`) are named here
std = "min"
read_globals = { "unpack", table = { fields = { "unpack" } } }

-- busted specs and their helpers; spec/nvim runs inside Neovim
files["spec"] = { std = "max+busted" }
files["spec/nvim"] = { std = "max+busted", globals = { "vim" } }

-- the Neovim plugin example runs inside Neovim (LuaJIT); it sets fields of
-- `vim` (vim.bo[buf].modifiable, vim.g.loaded_...)
files["examples/nvim"] = { std = "luajit", globals = { "vim" } }
files["examples"] = { std = "max" }
-- the webhook receiver runs inside nginx's Lua module (OpenResty's LuaJIT)
files["examples/webhook"] = { std = "luajit+ngx_lua" }

-- benchmarks and tools are scripts run by lua5.4 or luajit
files["bench"] = { std = "max" }
files["tools"] = { std = "max" }
