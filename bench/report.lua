--- Turns the runner's raw results into the Markdown report of `make bench`.
--
-- usage: lua5.4 bench/report.lua results.tsv [capacity.tsv] [meta.txt] [probe.tsv] [ir.tsv]
-- results.tsv: workload client run seconds process_seconds rss_kb status count
--              checksum server_cpu_seconds placement http
--              (files of older runners, without the last two, read as
--              placement "?")
-- capacity.tsv: name connections req/s median-latency transfer/s placement
-- meta.txt: key=value lines, then the generator's JSON line
-- probe.tsv: client workload protocols tls-versions connections requests
-- ir.tsv: workload client requests total-Ir on_prereq-Ir on_write-Ir
--         (callgrind, self cost of the two callbacks)

local results_file, capacity_file, meta_file, probe_file, ir_file =
  arg[1], arg[2], arg[3], arg[4], arg[5]
if not results_file then
  io.stderr:write("usage: report.lua results.tsv [capacity.tsv] [meta.txt] [probe.tsv] [ir.tsv]\n")
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

-- stats[placement][workload][client] = { secs = {}, psecs = {}, rss = {},
--   srv = {}, http = {}, runs = n, bad = status }
local stats, placements, seen_pl = {}, {}, {}
for i, l in ipairs(lines(results_file)) do
  if i > 1 and l ~= "" then
    local f = split(l)
    local w, c, status = f[1], f[2], f[7]
    local pl = (f[11] and f[11] ~= "") and f[11] or "?"
    if not seen_pl[pl] then seen_pl[pl] = true; placements[#placements + 1] = pl end
    stats[pl] = stats[pl] or {}
    stats[pl][w] = stats[pl][w] or {}
    local s = stats[pl][w][c]
    if not s then
      s = { secs = {}, psecs = {}, rss = {}, srv = {}, http = {}, runs = 0 }
      stats[pl][w][c] = s
    end
    s.runs = s.runs + 1
    if status == "ok" then
      s.secs[#s.secs + 1] = tonumber(f[4])
      s.psecs[#s.psecs + 1] = tonumber(f[5])
      s.rss[#s.rss + 1] = tonumber(f[6])
      s.srv[#s.srv + 1] = tonumber(f[10])
      if f[12] and f[12] ~= "" and f[12] ~= "-" then s.http[f[12]] = true end
    elseif not s.bad or s.bad == "n/a" then
      s.bad = status
    end
  end
end

--- Median seconds, median peak RSS (MiB), median process seconds, note,
-- median server CPU seconds, best seconds, HTTP versions seen.
local function summary(pl, w, c)
  local s = stats[pl] and stats[pl][w] and stats[pl][w][c]
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
  local http = {}
  for v in pairs(s.http) do http[#http + 1] = v end
  table.sort(http)
  return secs, rss and rss / 1024, median(s.psecs), note, median(s.srv), best,
    #http > 0 and table.concat(http, ",") or nil
end
local function secs_of(pl, w, c) return (summary(pl, w, c)) end

local meta = {}
for _, l in ipairs(lines(meta_file)) do
  local k, v = l:match("^([%w_]+)=(.*)$")
  if k then meta[k] = v
  elseif l:match("^{") then
    for key, num in l:gmatch('"([%w_]+)":(%d+)') do meta[key] = tonumber(num) end
  end
end

-- what each client negotiated, from the probe (nginx's log)
local probe = {}
for _, l in ipairs(lines(probe_file)) do
  local f = split(l)
  if #f >= 6 then
    probe[f[1]] = probe[f[1]] or {}
    probe[f[1]][f[2]] = { proto = f[3], tls = f[4], conns = tonumber(f[5]), reqs = tonumber(f[6]) }
  end
end
-- The HTTP version of a row: what the client itself reported in its runs,
-- else what nginx logged for it in the probe (W0's for W0, W4's for the
-- other HTTPS workloads: the same client code, the same ALPN offer).
local function http_label(c, w)
  local https = w == "w0" or w == "w1s" or w == "w2s" or w == "w4"
  local own = {}
  for _, pl in ipairs(placements) do
    local s = stats[pl][w] and stats[pl][w][c]
    for v in pairs(s and s.http or {}) do own[v] = true end
  end
  local list = {}
  for v in pairs(own) do list[#list + 1] = v end
  table.sort(list)
  if #list > 0 then return table.concat(list, ",") end
  local pr = probe[c] and (probe[c][w == "w0" and "w0" or "w4"] or probe[c].w0)
  if https and pr and pr.proto ~= "" then
    return (pr.proto:gsub("HTTP/2%.0", "2"):gsub("HTTP/", ""))
  end
  return https and "?" or "1.1"
end

local LABEL = {
  ["ours-5.4"] = "**lua-gitlab (lua5.4)**",
  ["ours-jit"] = "**lua-gitlab (luajit)**",
  floor = "libcurl floor (C, no decode)",
  ["python-gitlab"] = "python-gitlab",
  gitbeaker = "gitbeaker (@gitbeaker/rest)",
  ["go-gitlab"] = "go-gitlab",
  ["cjson-5.4"] = "cjson decode alone (lua5.4)",
  ["cjson-jit"] = "cjson decode alone (luajit)",
  ["base-5.4"] = "lua-gitlab, base tree (lua5.4; BENCH_BASE)",
  ["base-jit"] = "lua-gitlab, base tree (luajit; BENCH_BASE)",
}
local PEERS = { "python-gitlab", "gitbeaker", "go-gitlab" }
local WORKLOADS = { "w0", "w1", "w1s", "w2", "w2s", "w3", "w4" }
local WNAME = {
  w0 = "W0: cold start, 1 GET over HTTPS (whole process)",
  w1 = "W1: 2,000 GETs of /projects/1",
  w1s = "W1s: W1 over HTTPS",
  w2 = "W2: 10,000 issues, 100 pages",
  w2s = "W2s: W2 over HTTPS",
  w3 = "W3: W2 + 50 ms/request",
  w4 = "W4: 1,000 projects over HTTPS, 16 in flight",
  ["s-get"] = "S: 2,000 GETs of one issue",
  ["s-get-unbounded"] = "S: the same, `max_body = math.huge`",
  ["s-post"] = "S: 2,000 POSTs (prerequest callback)",
  ["s-put"] = "S: 2,000 PUTs, same body (no callback)",
}
local CLIENT_ORDER = { "ours-5.4", "ours-jit", "base-5.4", "base-jit", "floor", "cjson-5.4",
  "cjson-jit", "python-gitlab", "gitbeaker", "go-gitlab" }

local function fmt(x, pat)
  if not x then return "n/a" end
  return string.format(pat or "%.3f", x)
end
local function ratio(a, b)
  if not a or not b then return "n/a" end
  return string.format("%.2f", a / b)
end

local out = {}
local function p(...) out[#out + 1] = table.concat({ ... }) end

-- the placements a row exists in, in run order
local function clients_of(w)
  local list, seen = {}, {}
  for _, c in ipairs(CLIENT_ORDER) do
    for _, pl in ipairs(placements) do
      if not seen[c] and stats[pl][w] and stats[pl][w][c] then
        list[#list + 1] = c; seen[c] = true
      end
    end
  end
  for _, pl in ipairs(placements) do
    for c in pairs(stats[pl][w] or {}) do
      if not seen[c] then list[#list + 1] = c; seen[c] = true end
    end
  end
  return list
end

local PIN_TEXT = {
  split = "**split**: nginx's worker pinned to one CPU, each client (and wrk) to "
    .. "the other, as a client and a server on two machines",
  same = "**same**: nginx's worker and each client pinned to one CPU: a round trip "
    .. "costs only CPU, so every microsecond a client spends shows",
  off = "**off**: unpinned; runs flip between sharing a core and not, so medians "
    .. "mix two regimes",
  ["?"] = "placement not recorded",
}

p("## Benchmarks")
p("")
p(string.format("Median of %s runs per client, workload and placement (W0: %s runs, W3: %s) "
  .. "on %s cores; every server on 127.0.0.1. Seconds are measured inside each "
  .. "client around the workload (after start-up), except W0, which is the whole "
  .. "process from fork to exit. *× ours* is the client's time divided by ours "
  .. "(above 1.00: slower than ours); *HTTP* is the protocol the client used "
  .. "(nginx's log).", meta.runs or "?", meta.w0_runs or "?", meta.w3_runs or meta.runs or "?",
  meta.cores or "?"))
p("")
if meta.load_before then
  local busy = (tonumber(meta.load_before:match("^(%S+)")) or 0) > 0.5
  p("Load average (1, 5, 15 min) before `make bench` started: ", meta.load_before, "; after: ",
    meta.load_after or "?", busy and ". **Other work was running on the machine**: "
    .. "expect noise, compare *best s*, or re-run on a quiet machine." or ".",
    (meta.nice and meta.nice ~= "") and (" nginx and the clients ran at niceness "
    .. meta.nice .. ".") or "",
    meta.minutes and (" The whole `make bench` took " .. meta.minutes .. " minutes.") or "")
  p("")
end
local pl_lines = {}
for _, pl in ipairs(placements) do pl_lines[#pl_lines + 1] = "- " .. (PIN_TEXT[pl] or pl) end
p("Placements:")
for _, l in ipairs(pl_lines) do p(l) end
p("")
if meta.project_bytes then
  p(string.format("Data: one project of %d bytes; 100 pages of 100 issues, %.1f MB "
    .. "in all (GitLab 17-shaped JSON with X-Page, X-Next-Page, X-Total, "
    .. "X-Total-Pages, X-Per-Page and Link headers); W4: %d project documents, "
    .. "%.1f MB in all. HTTPS: nginx `listen ... ssl http2`, TLS 1.3, an ECDSA "
    .. "P-256 certificate from a CA made at run time.",
    meta.project_bytes, (meta.issues_bytes or 0) / 1e6, meta.projects or 1000,
    (meta.projects_bytes or 0) / 1e6))
  p("")
end

-- ------------------------------------------------------------ main table
local head = { "| workload | client | HTTP |" }
local rule = { "|---|---|---|" }
for _, pl in ipairs(placements) do
  head[#head + 1] = string.format(" %s s | %s × ours lua5.4 | %s × ours luajit |", pl, pl, pl)
  rule[#rule + 1] = "---:|---:|---:|"
end
head[#head + 1] = " peak RSS MiB |"
rule[#rule + 1] = "---:|"
p(table.concat(head))
p(table.concat(rule))
for _, w in ipairs(WORKLOADS) do
  for _, c in ipairs(clients_of(w)) do
    local row = { "| ", WNAME[w], " | ", LABEL[c] or c, " | ",
      (c:match("^cjson") and "—" or http_label(c, w)), " |" }
    local rss
    for _, pl in ipairs(placements) do
      if stats[pl][w] then
        local secs, r, _, note = summary(pl, w, c)
        rss = rss or r
        local s = secs and fmt(secs) or ("n/a" .. ((note and note ~= "n/a") and (" (" .. note .. ")") or ""))
        if secs and note then s = s .. " (" .. note .. ")" end
        row[#row + 1] = string.format(" %s | %s | %s |", s,
          ratio(secs, secs_of(pl, w, "ours-5.4")), ratio(secs, secs_of(pl, w, "ours-jit")))
      else
        row[#row + 1] = " — | — | — |"
      end
    end
    row[#row + 1] = " " .. (rss and string.format("%.1f", rss) or "n/a") .. " |"
    p(table.concat(row))
    if w == "w2" and c:match("^cjson%-") then
      local flavour = c:sub(7)
      local r2 = { "| ", WNAME[w], " | floor + cjson (", flavour == "jit" and "luajit" or "lua5.4",
        ") | — |" }
      for _, pl in ipairs(placements) do
        local f, cj = secs_of(pl, "w2", "floor"), secs_of(pl, "w2", c)
        local both = f and cj and f + cj
        r2[#r2 + 1] = string.format(" %s | %s | %s |", fmt(both),
          ratio(both, secs_of(pl, w, "ours-5.4")), ratio(both, secs_of(pl, w, "ours-jit")))
      end
      r2[#r2 + 1] = " — |"
      p(table.concat(r2))
    end
  end
end
p("")

-- ------------------------------------------------------------- targets
local function verdict(ok, detail)
  if ok == nil then return "n/a" end
  return (ok and "PASS" or "FAIL") .. " (" .. detail .. ")"
end

local function fastest_peer(pl, w)
  local best, name
  for _, c in ipairs(PEERS) do
    local s = secs_of(pl, w, c)
    if s and (not best or s < best) then best, name = s, c end
  end
  return best, name
end

local function vs_floor(w, split_max, same_max)
  return function(pl, o)
    local ours, floor = secs_of(pl, w, o), secs_of(pl, w, "floor")
    if not ours or not floor then return nil end
    local max = pl == "same" and same_max or split_max
    local r = ours / floor
    return verdict(r <= max, string.format("%.2f×", r))
  end
end
local function vs_peers(w, factor)
  return function(pl, o)
    local ours = secs_of(pl, w, o)
    local best, name = fastest_peer(pl, w)
    if not ours or not best then return nil end
    return verdict(best / ours >= factor, string.format("%.2f× vs %s", best / ours, name))
  end
end

local targets = {
  { "W1: at most 1.2× the floor split, 1.35× on one core", vs_floor("w1", 1.2, 1.35) },
  { "W1s: at most 1.2× the floor split, 1.35× on one core", vs_floor("w1s", 1.2, 1.35) },
  { "W2: at least 2× faster than the fastest peer", vs_peers("w2", 2) },
  { "W2s: at least 2× faster than the fastest peer", vs_peers("w2s", 2) },
  { "W4: faster than every peer", vs_peers("w4", 1) },
  { "W4: at most 1.3× the C floor (curl_multi)", vs_floor("w4", 1.3, 1.3) },
  { "W0: at most 1.5× the floor (whole process)", vs_floor("w0", 1.5, 1.5) },
  { "W1: faster than go-gitlab (issue 3)", function(pl, o)
      local ours, go = secs_of(pl, "w1", o), secs_of(pl, "w1", "go-gitlab")
      if not ours or not go then return nil end
      return verdict(ours < go, string.format("%.2f× faster", go / ours))
    end },
  { "W2: at most 1.15× (floor + cjson decode) (issue 3)", function(pl, o)
      local ours, floor = secs_of(pl, "w2", o), secs_of(pl, "w2", "floor")
      local cj = secs_of(pl, "w2", o == "ours-jit" and "cjson-jit" or "cjson-5.4")
      if not ours or not floor or not cj then return nil end
      local r = ours / (floor + cj)
      return verdict(r <= 1.15, string.format("%.2f×", r))
    end },
  { "W2: peak RSS at most ¼ of gitbeaker's (issue 3)", function(pl, o)
      local _, ours = summary(pl, "w2", o)
      local _, gb = summary(pl, "w2", "gitbeaker")
      if not ours or not gb then return nil end
      return verdict(ours <= gb / 4, string.format("%.1f vs %.1f MiB", ours, gb))
    end },
  { "W3: at least 3.5× faster than every peer (issue 3)", vs_peers("w3", 3.5) },
}
local th = { "| target |" }
local tr = { "|---|" }
for _, pl in ipairs(placements) do
  th[#th + 1] = string.format(" %s lua5.4 | %s luajit |", pl, pl)
  tr[#tr + 1] = "---|---|"
end
p(table.concat(th))
p(table.concat(tr))
for _, t in ipairs(targets) do
  local row = { "| ", t[1], " |" }
  local any = false
  for _, pl in ipairs(placements) do
    local a, b = t[2](pl, "ours-5.4"), t[2](pl, "ours-jit")
    any = any or a or b
    row[#row + 1] = string.format(" %s | %s |", a or "—", b or "—")
  end
  if any then p(table.concat(row)) end
end
p("")

-- --------------------------------------------------------- safety cost
local SAFETY = {
  { "prerequest callback (no re-sent POST)", "s-post", "s-put", "POST", "PUT" },
  { "body bound (`max_body`)", "s-get", "s-get-unbounded", "bounded", "unbounded" },
}
local ir = {}
for _, l in ipairs(lines(ir_file)) do
  local f = split(l)
  if #f >= 6 then
    ir[f[2]] = ir[f[2]] or {}
    ir[f[2]][f[1]] = { n = tonumber(f[3]), total = tonumber(f[4]), prereq = tonumber(f[5]),
      write = tonumber(f[6]) }
  end
end
local have_safety = false
for _, pl in ipairs(placements) do
  if stats[pl]["s-get"] or stats[pl]["s-post"] then have_safety = true end
end
if have_safety then
  p("What the safety checks cost, this library only, plain HTTP. The prerequest "
    .. "callback that refuses to send a POST twice is installed for POST and PATCH "
    .. "only, so 2,000 POSTs are compared with 2,000 PUTs of the same body (same "
    .. "code path otherwise); the body bound is switched off with "
    .. "`max_body = math.huge`. Difference per request in µs, median against "
    .. "median and best against best:")
  p("")
  p("| check | placement | client | with s | without s | µs per request (median) | µs per request (best) |")
  p("|---|---|---|---:|---:|---:|---:|")
  for _, sf in ipairs(SAFETY) do
    for _, pl in ipairs(placements) do
      for _, c in ipairs({ "ours-5.4", "ours-jit", "base-5.4", "base-jit" }) do
        local a, _, _, _, _, abest = summary(pl, sf[2], c)
        local b, _, _, _, _, bbest = summary(pl, sf[3], c)
        if a or b then
          p("| ", sf[1], " | ", pl, " | ", LABEL[c] or c, " | ", fmt(a), " | ", fmt(b),
            " | ", (a and b) and string.format("%+.1f", (a - b) / 2000 * 1e6) or "n/a",
            " | ", (abest and bbest) and string.format("%+.1f", (abest - bbest) / 2000 * 1e6) or "n/a",
            " |")
        end
      end
    end
  end
  p("")
  local ir_rows = {}
  for _, c in ipairs({ "ours-5.4", "base-5.4" }) do
    for _, sf in ipairs(SAFETY) do
      local a, b = ir[c] and ir[c][sf[2]], ir[c] and ir[c][sf[3]]
      if a and b then ir_rows[#ir_rows + 1] = { c, sf, a, b } end
    end
  end
  if #ir_rows > 0 then
    p("The same under callgrind (instructions of the client process, ", ir_rows[1][3].n,
      " requests each, lua5.4; the C callbacks are the same under LuaJIT). The "
      .. "callbacks' own instructions are exact; the whole-process difference "
      .. "also carries run-to-run jitter (how often libcurl polls):")
    p("")
    p("| check | client | instructions per request, with / without | difference | "
      .. "in the callback, with / without (per request) |")
    p("|---|---|---:|---:|---:|")
    for _, row in ipairs(ir_rows) do
      local c, sf, a, b = row[1], row[2], row[3], row[4]
      local key = sf[2] == "s-post" and "prereq" or "write"
      local name = key == "prereq" and "`on_prereq`" or "`on_write`"
      p(string.format("| %s | %s | %.0f / %.0f | %+.0f (%+.3f%%) | %s: %.1f / %.1f |", sf[1],
        LABEL[c] or c, a.total / a.n, b.total / b.n, (a.total - b.total) / a.n,
        (a.total - b.total) / b.total * 100, name, a[key] / a.n, b[key] / b.n))
    end
    p("")
  end
end

-- ------------------------------------------------------------- probe
local probe_clients = {}
for _, c in ipairs(CLIENT_ORDER) do if probe[c] then probe_clients[#probe_clients + 1] = c end end
if #probe_clients > 0 then
  p("What each client negotiated over HTTPS, from nginx's access log (one W0 and one "
    .. "W4 run of each against a logging copy of the HTTPS server):")
  p("")
  p("| client | trusts the CA by | W0 protocol | TLS | W4 protocol | W4 connections |")
  p("|---|---|---|---|---|---:|")
  local TRUST = {
    floor = "`CURLOPT_CAINFO`", ["ours-5.4"] = "`ca_file` option", ["ours-jit"] = "`ca_file` option",
    ["base-5.4"] = "`ca_file` option", ["base-jit"] = "`ca_file` option",
    ["python-gitlab"] = "`ssl_verify=<CA file>`", gitbeaker = "`NODE_EXTRA_CA_CERTS`",
    ["go-gitlab"] = "`SSL_CERT_FILE`",
  }
  for _, c in ipairs(probe_clients) do
    local a, b = probe[c].w0 or {}, probe[c].w4 or {}
    p("| ", LABEL[c] or c, " | ", TRUST[c] or "?", " | ", a.proto or "n/a", " | ", a.tls or "n/a", " | ",
      b.proto or "n/a", " | ", b.conns and tostring(b.conns) or "n/a", " |")
  end
  p("")
end

-- ------------------------------------------------------------ details
for _, pl in ipairs(placements) do
  p("Details, placement ", pl, ": *best s* is the fastest run (the machine is shared, "
    .. "so the spread is worth a look); *process s* is the whole process "
    .. "(`/usr/bin/time`; W0: the launcher), peak RSS is the process's maximum "
    .. "resident set; *server CPU s* is what nginx's worker spent meanwhile "
    .. "(part of every client's time).")
  p("")
  p("| workload | client | median s | best s | × floor | peak RSS MiB | process s | server CPU s |")
  p("|---|---|---:|---:|---:|---:|---:|---:|")
  local all = {}
  for _, w in ipairs(WORKLOADS) do all[#all + 1] = w end
  for _, w in ipairs({ "s-get", "s-get-unbounded", "s-post", "s-put" }) do all[#all + 1] = w end
  for _, w in ipairs(all) do
    if stats[pl][w] then
      for _, c in ipairs(clients_of(w)) do
        if stats[pl][w][c] then
          local secs, rss, psecs, note, srv, best = summary(pl, w, c)
          local s = secs and fmt(secs) or ("n/a" .. ((note and note ~= "n/a") and (" (" .. note .. ")") or ""))
          if secs and note then s = s .. " (" .. note .. ")" end
          p("| ", WNAME[w] or w, " | ", LABEL[c] or c, " | ", s, " | ", fmt(best), " | ",
            ratio(secs, secs_of(pl, w, "floor")), " | ",
            rss and string.format("%.1f", rss) or "n/a", " | ", fmt(psecs, "%.3f"), " | ",
            fmt(srv), " |")
        end
      end
    end
  end
  p("")
end

-- ------------------------------------------------------------ capacity
local cap = lines(capacity_file)
if #cap > 0 then
  p("Server: nginx ", meta.nginx or "?", ", one worker, pages from the page cache; "
    .. "W3's delay is the echo module's non-blocking `echo_sleep`. Capacity "
    .. "measured with wrk (keep-alive, HTTP/1.1 also over TLS, 2 s each, placed "
    .. "like the clients) just before the runs:")
  p("")
  p("| endpoint | placement | connections | requests/s | median latency | transfer/s |")
  p("|---|---|---:|---:|---:|---:|")
  for _, l in ipairs(cap) do
    local f = split(l)
    p("| ", f[1], " | ", f[6] or "?", " | ", f[2], " | ", f[3], " | ", f[4], " | ", f[5], " |")
  end
  p("")
end

p("Peers in their natural configuration: python-gitlab `projects.get(1)` and "
  .. "`project.issues.list(iterator=True, per_page=100)` (requests.Session, "
  .. "keep-alive; W4: `ThreadPoolExecutor(16)` on one client whose session keeps "
  .. "16 connections, requests' default being 10); gitbeaker `Projects.show(1)` and "
  .. "`Issues.all({projectId, perPage: 100})` (Node fetch, keep-alive, default "
  .. "rate limits; W4: 16 promises at once); go-gitlab `GetProject` and "
  .. "`ListProjectIssues` looping on `resp.NextPage` (default pooled transport; "
  .. "W4: 16 goroutines on one client). Ours: `gl:get`, `gl:paginate`, W4 "
  .. "`gl:request_async` with 16 in flight run by `gl:wait()`. The floor is C on "
  .. "libcurl without decoding: one reused easy handle following X-Next-Page; W4 "
  .. "on curl_multi with 16 easy handles, `CURLOPT_PIPEWAIT` (HTTP/2 streams on "
  .. "one connection) and `CURLMOPT_MAX_TOTAL_CONNECTIONS` 16. No gzip, no "
  .. "RateLimit headers.")
p("")
local versions = {}
for _, k in ipairs({ "curl", "openssl", "lua54", "luajit", "python", "node", "go" }) do
  if meta[k] and meta[k] ~= "" then versions[#versions + 1] = meta[k] end
end
if #versions > 0 then p("Versions: ", table.concat(versions, "; "), ".") end

io.write(table.concat(out, "\n"), "\n")
