--- Turns the runner's raw results into the Markdown report of `make bench`.
--
-- usage: lua5.4 bench/report.lua results.tsv capacity.tsv meta.txt
-- results.tsv: workload client run seconds process_seconds rss_kb status count
--              checksum server_cpu_seconds
-- capacity.tsv: name connections req/s median-latency transfer/s
-- meta.txt: key=value lines, then the generator's JSON line

local results_file, capacity_file, meta_file = arg[1], arg[2], arg[3]
if not results_file then
  io.stderr:write("usage: report.lua results.tsv [capacity.tsv] [meta.txt]\n")
  os.exit(2)
end

local function split(line)
  local t = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do t[#t + 1] = field end
  return t
end

local function lines(path)
  local out = {}
  local f = path and io.open(path, "r")
  if not f then return out end
  for l in f:lines() do out[#out + 1] = l end
  f:close()
  return out
end

local function median(xs)
  if #xs == 0 then return nil end
  local s = {}
  for i, x in ipairs(xs) do s[i] = x end
  table.sort(s)
  local n = #s
  if n % 2 == 1 then return s[(n + 1) // 2] end
  return (s[n // 2] + s[n // 2 + 1]) / 2
end

-- stats[workload][client] = { secs = {}, psecs = {}, rss = {}, srv = {}, runs = n,
--                             bad = status }
local stats, order = {}, {}
for i, l in ipairs(lines(results_file)) do
  if i > 1 and l ~= "" then
    local f = split(l)
    local w, c, status = f[1], f[2], f[7]
    stats[w] = stats[w] or {}
    local s = stats[w][c]
    if not s then
      s = { secs = {}, psecs = {}, rss = {}, srv = {}, runs = 0 }
      stats[w][c] = s
      order[w] = order[w] or {}
      table.insert(order[w], c)
    end
    s.runs = s.runs + 1
    if status == "ok" then
      s.secs[#s.secs + 1] = tonumber(f[4])
      s.psecs[#s.psecs + 1] = tonumber(f[5])
      s.rss[#s.rss + 1] = tonumber(f[6])
      s.srv[#s.srv + 1] = tonumber(f[10])
    elseif not s.bad or s.bad == "n/a" then
      s.bad = status
    end
  end
end

--- Median seconds, median peak RSS (MiB), median process seconds, note,
-- median server CPU seconds, best seconds.
local function summary(w, c)
  local s = stats[w] and stats[w][c]
  if not s then return nil end
  local secs = median(s.secs)
  local rss = median(s.rss)
  local note
  if not secs then
    note = s.bad or "n/a"
  elseif #s.secs < s.runs then
    note = string.format("%d/%d runs ok (%s)", #s.secs, s.runs, s.bad)
  end
  local best
  for _, x in ipairs(s.secs) do best = (not best or x < best) and x or best end
  return secs, rss and rss / 1024, median(s.psecs), note, median(s.srv), best
end

local meta = {}
for _, l in ipairs(lines(meta_file)) do
  local k, v = l:match("^([%w_]+)=(.*)$")
  if k then meta[k] = v
  elseif l:match("^{") then
    meta.project_bytes = tonumber(l:match('"project_bytes":(%d+)'))
    meta.issues_bytes = tonumber(l:match('"issues_bytes":(%d+)'))
  end
end

local LABEL = {
  ["ours-5.4"] = "**lua-gitlab (lua5.4)**",
  ["ours-jit"] = "**lua-gitlab (luajit)**",
  floor = "libcurl floor (C, one easy handle, no decode)",
  ["python-gitlab"] = "python-gitlab",
  gitbeaker = "gitbeaker (@gitbeaker/rest)",
  ["go-gitlab"] = "go-gitlab",
  ["cjson-5.4"] = "cjson decode alone (lua5.4)",
  ["cjson-jit"] = "cjson decode alone (luajit)",
  ["base-5.4"] = "lua-gitlab, base tree (lua5.4; BENCH_BASE)",
  ["base-jit"] = "lua-gitlab, base tree (luajit; BENCH_BASE)",
}
local PEERS = { "python-gitlab", "gitbeaker", "go-gitlab" }
local WNAME = {
  w1 = "W1: 2,000 GETs of /projects/1",
  w2 = "W2: 10,000 issues, 100 pages",
  w3 = "W3: W2 + 50 ms/request",
}

local function fmt(x, pat)
  if not x then return "n/a" end
  return string.format(pat or "%.3f", x)
end

local out = {}
local function p(...) out[#out + 1] = table.concat({ ... }) end

p("## Benchmarks")
p("")
p(string.format("Median of %s runs per client and workload on %s cores; every server "
  .. "on 127.0.0.1. Seconds are measured inside each client around the workload "
  .. "(after start-up); *best s* is the fastest run (the machine is shared, "
  .. "so the spread is worth a look); *process s* is the whole process (`/usr/bin/time`), "
  .. "peak RSS is `/usr/bin/time -f %%M`; *server CPU s* is what nginx's "
  .. "worker spent meanwhile (part of every client's time). *× ours* is the "
  .. "client's time divided by ours (above 1.00: slower than ours).",
  meta.runs or "?", meta.cores or "?"))
p("")
if meta.load_before then
  local busy = (tonumber(meta.load_before:match("^(%S+)")) or 0) > 0.5
  p("Load average (1, 5, 15 min) before `make bench` started: ", meta.load_before, "; after: ",
    meta.load_after or "?", busy and ". **Other work was running on the machine**: "
    .. "expect noise, compare *best s*, or re-run on a quiet machine." or ".",
    (meta.nice and meta.nice ~= "") and (" nginx and the clients ran at niceness "
    .. meta.nice .. ".") or "")
  p("")
end
local PIN = {
  split = "Placement: nginx's worker pinned to one CPU, each client (and wrk) to another, "
    .. "as a client and a server on two machines (`BENCH_PIN=split`).",
  same = "Placement: nginx's worker and each client pinned to one CPU (`BENCH_PIN=same`): "
    .. "a round trip costs only CPU, so every microsecond a client spends shows.",
  off = "Placement: unpinned (`BENCH_PIN=off`); runs flip between sharing a core and not, "
    .. "so medians mix two regimes.",
}
if meta.pin and PIN[meta.pin] then
  p(PIN[meta.pin])
  p("")
end
if meta.project_bytes then
  p(string.format("Data: one project of %d bytes; 100 pages of 100 issues, %.1f MB "
    .. "in all (GitLab 17-shaped JSON with X-Page, X-Next-Page, X-Total, "
    .. "X-Total-Pages, X-Per-Page and Link headers).",
    meta.project_bytes, (meta.issues_bytes or 0) / 1e6))
  p("")
end

p("| workload | client | median s | best s | × ours lua5.4 | × ours luajit | peak RSS MiB | process s | server CPU s |")
p("|---|---|---:|---:|---:|---:|---:|---:|---:|")
local ref = {}
for _, w in ipairs({ "w1", "w2", "w3" }) do
  if stats[w] then
    ref[w] = { ["5.4"] = (summary(w, "ours-5.4")), jit = (summary(w, "ours-jit")) }
    local function ratio(secs, r)
      if not secs or not r then return "n/a" end
      return string.format("%.2f", secs / r)
    end
    local clients = {}
    local seen = {}
    for _, c in ipairs({ "ours-5.4", "ours-jit", "floor", "cjson-5.4", "cjson-jit",
                         "python-gitlab", "gitbeaker", "go-gitlab" }) do
      if stats[w][c] then clients[#clients + 1] = c; seen[c] = true end
    end
    for _, c in ipairs(order[w]) do
      if not seen[c] then clients[#clients + 1] = c end
    end
    for _, c in ipairs(clients) do
      local secs, rss, psecs, note, srv, best = summary(w, c)
      local secs_s = secs and fmt(secs) or ("n/a" .. (note and note ~= "n/a" and " (" .. note .. ")" or ""))
      if secs and note then secs_s = secs_s .. " (" .. note .. ")" end
      p("| ", WNAME[w] or w, " | ", LABEL[c] or c, " | ", secs_s, " | ", fmt(best), " | ",
        ratio(secs, ref[w]["5.4"]), " | ", ratio(secs, ref[w].jit), " | ",
        rss and string.format("%.1f", rss) or "n/a", " | ", fmt(psecs, "%.2f"), " | ",
        fmt(srv), " |")
      if w == "w2" and (c == "cjson-5.4" or c == "cjson-jit") then
        local floor = summary("w2", "floor")
        local both = floor and secs and floor + secs
        local flavour = c:sub(7)
        local _, _, _, _, _, fbest = summary("w2", "floor")
        local _, _, _, _, _, cbest = summary("w2", c)
        p("| ", WNAME[w], " | floor + cjson (", flavour == "jit" and "luajit" or "lua5.4",
          ") | ", fmt(both), " | ", fmt(fbest and cbest and fbest + cbest), " | ",
          ratio(both, ref[w]["5.4"]), " | ",
          ratio(both, ref[w].jit), " | — | — | — |")
      end
    end
  end
end
p("")

-- targets of the benchmark issue, checked per interpreter
local function verdict(ok, detail)
  if ok == nil then return "n/a" end
  return (ok and "PASS" or "FAIL") .. " (" .. detail .. ")"
end

local function fastest_peer(w, exclude)
  local best, name
  for _, c in ipairs(PEERS) do
    local s = summary(w, c)
    if s and c ~= exclude and (not best or s < best) then best, name = s, c end
  end
  return best, name
end

local targets = {
  { "W1: at most 1.3× the libcurl floor", function(o)
      local ours, floor = summary("w1", o), summary("w1", "floor")
      if not ours or not floor then return nil end
      local r = ours / floor
      return verdict(r <= 1.3, string.format("%.2f×", r))
    end },
  { "W1: faster than go-gitlab", function(o)
      local ours, go = summary("w1", o), summary("w1", "go-gitlab")
      if not ours or not go then return nil end
      return verdict(ours < go, string.format("%.2f× faster", go / ours))
    end },
  { "W2: at most 1.15× (floor + cjson decode)", function(o)
      local ours, floor = summary("w2", o), summary("w2", "floor")
      local cj = summary("w2", o == "ours-jit" and "cjson-jit" or "cjson-5.4")
      if not ours or not floor or not cj then return nil end
      local r = ours / (floor + cj)
      return verdict(r <= 1.15, string.format("%.2f×", r))
    end },
  { "W2: at least 2× faster than the fastest peer", function(o)
      local ours = summary("w2", o)
      local best, name = fastest_peer("w2")
      if not ours or not best then return nil end
      return verdict(best / ours >= 2, string.format("%.2f× vs %s", best / ours, name))
    end },
  { "W2: peak RSS at most ¼ of gitbeaker's", function(o)
      local _, ours = summary("w2", o)
      local _, gb = summary("w2", "gitbeaker")
      if not ours or not gb then return nil end
      return verdict(ours <= gb / 4, string.format("%.1f vs %.1f MiB", ours, gb))
    end },
  { "W3: at least 3.5× faster than every peer", function(o)
      local ours = summary("w3", o)
      local best, name = fastest_peer("w3")
      if not ours or not best then return nil end
      return verdict(best / ours >= 3.5, string.format("%.2f× vs %s", best / ours, name))
    end },
}
p("| target (issue 3) | lua-gitlab lua5.4 | lua-gitlab luajit |")
p("|---|---|---|")
for _, t in ipairs(targets) do
  p("| ", t[1], " | ", t[2]("ours-5.4") or "n/a", " | ", t[2]("ours-jit") or "n/a", " |")
end
p("")

local cap = lines(capacity_file)
if #cap > 0 then
  p("Server: nginx ", meta.nginx or "?", ", one worker, pages from the page cache; "
    .. "W3's delay is the echo module's non-blocking `echo_sleep`. Capacity "
    .. "measured with wrk (keep-alive, 2 s each, placed like the clients) "
    .. "just before the runs:")
  p("")
  p("| endpoint | connections | requests/s | median latency | transfer/s |")
  p("|---|---:|---:|---:|---:|")
  for _, l in ipairs(cap) do
    local f = split(l)
    p("| ", f[1], " | ", f[2], " | ", f[3], " | ", f[4], " | ", f[5], " |")
  end
  p("")
end

p("Peers in their natural configuration: python-gitlab `projects.get(1)` and "
  .. "`project.issues.list(iterator=True, per_page=100)` (requests.Session, "
  .. "keep-alive); gitbeaker `Projects.show(1)` and `Issues.all({projectId, "
  .. "perPage: 100})` (Node fetch, keep-alive, default rate limits); go-gitlab "
  .. "`GetProject` and `ListProjectIssues` looping on `resp.NextPage` "
  .. "(default pooled transport). The floor follows X-Next-Page with one "
  .. "libcurl easy handle. No gzip, HTTP/1.1, no RateLimit headers.")
p("")
local versions = {}
for _, k in ipairs({ "curl", "lua54", "luajit", "python", "node", "go" }) do
  if meta[k] and meta[k] ~= "" then versions[#versions + 1] = meta[k] end
end
if #versions > 0 then p("Versions: ", table.concat(versions, "; "), ".") end

io.write(table.concat(out, "\n"), "\n")
