--- cjson alone: the decode share of W2. Reads the 100 generated pages into
-- memory first, then times cjson.decode of each page plus the same walk over
-- every item that the clients do. Nothing touches the network.
--
-- usage: lua5.4 bench/decode.lua DATADIR      (or luajit)
-- prints: "<seconds> <count> <checksum>" (checksum: sum of iids)

local cjson = require("cjson")


local dir = arg[1]
if not dir then
  io.stderr:write("usage: decode.lua DATADIR\n")
  os.exit(2)
end

local pages = {}
for p = 1, 100 do
  local f = assert(io.open(dir .. "/issues/" .. p .. ".json", "rb"))
  pages[p] = f:read("*a")
  f:close()
end

local clock = dofile(((arg and arg[0] or ""):match("^(.*)/[^/]*$") or ".") .. "/clock.lua")
local decode = cjson.decode
local start = clock()
local count, sum = 0, 0
for p = 1, #pages do
  local items = decode(pages[p])
  for i = 1, #items do
    count = count + 1
    sum = sum + items[i].iid
  end
end
io.write(string.format("%.6f %d %d\n", clock() - start, count, sum))
