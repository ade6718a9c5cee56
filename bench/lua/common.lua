-- Shared by the scenario scripts: arguments, headers, per-status counts and a
-- machine-readable summary line for bench/run.py.
--   wrk ... URL -- header=Authorization:Bearer\ x header=HX-Request:true file=... tag=AB
local threads = {}  -- in wrk's main Lua state; each thread gets its number as global tid

function setup(thread)
   thread:set("tid", #threads)
   table.insert(threads, thread)
end

opts = {}
counts = {}

function parse_args(args)
   for _, a in ipairs(args) do
      local k, v = a:match("^([%w_]+)=(.*)$")
      if k == "header" then
         local name, value = v:match("^([^:]+):%s*(.*)$")
         wrk.headers[name] = value
      elseif k then
         opts[k] = v
      end
   end
end

-- The tickets a thread walks (lookup, exit): its own slice of the file, so
-- no two threads pay the same ticket. wrk runs each thread's init() right
-- after its setup(), before the next thread exists: the thread count comes
-- from the arguments (threads=N), not from counting setup() calls.
function load_slice(path)
   local nthreads = tonumber(opts.threads or "1")
   local mine, i = {}, 0
   for line in io.lines(path) do
      if line ~= "" then
         if i % nthreads == tid then table.insert(mine, line) end
         i = i + 1
      end
   end
   return mine
end

function response(status, headers, body)
   counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
   local total = {}
   for _, t in ipairs(threads) do
      for status, n in pairs(t:get("counts")) do total[status] = (total[status] or 0) + n end
   end
   local parts = {}
   for status, n in pairs(total) do table.insert(parts, status .. ":" .. n) end
   local e = summary.errors
   io.write(string.format(
      "BENCHRESULT requests=%d duration_us=%d p50_us=%d p90_us=%d p95_us=%d p99_us=%d max_us=%d " ..
      "connect=%d read=%d write=%d timeout=%d statuses=%s\n",
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
      latency:percentile(95), latency:percentile(99), latency.max, e.connect, e.read, e.write, e.timeout,
      table.concat(parts, ",")))
end
