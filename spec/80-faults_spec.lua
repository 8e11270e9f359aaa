-- The fault matrix (tools/faults.lua, `make faults`) as specs: every bad
-- network or server behaviour ends in its promised outcome, a clear error,
-- a successful retry or the exact data, under each interpreter and ASan.
local helpers = require("helpers")

local tools = helpers.root .. "/tools/?.lua"
if not package.path:find(tools, 1, true) then package.path = tools .. ";" .. package.path end
local faults = require("faults")

describe("fault matrix", function()
  setup(function() helpers.server() end)
  after_each(function() helpers.reset() end)

  for _, case in ipairs(faults.cases) do
    if case.known_bug then
      pending(case.name .. " -> " .. case.expect .. " (known bug: " .. case.known_bug .. ")")
    else
      it(case.name .. " -> " .. case.expect, function()
        local ok, seen = faults.run_case(case)
        assert(ok, case.name .. ": expected " .. case.expect .. ", observed " .. tostring(seen))
      end)
    end
  end
end)

-- A short, seeded run of the wire fuzzer (fuzz/wire): generated broken
-- HTTP responses, each of which must end as data or a clean error.
describe("wire fuzz (seeded)", function()
  -- loaded with "wire" as its `...`: a module, not the command line
  local wire = assert(loadfile(helpers.root .. "/fuzz/wire/client.lua"))("wire")

  for _, seed in ipairs{ 1, 2 } do
    it("seed " .. seed .. ": 300 responses, no crash, no hang, clean errors", function()
      local tally = wire.run(seed, 300)
      local n = 0
      for _, c in pairs(tally) do n = n + c end
      assert.is_true(n >= 300)
    end)
  end
end)
