-- Entries or exits spread over many garages (bench/many_garages.py).
--   wrk ... -s bench/lua/garages.lua URL -- mode=entry file=GARAGES garages=N tag=AB threads=2
--   wrk ... -s bench/lua/garages.lua URL -- mode=exit file=TICKETS threads=2
-- mode=entry: GARAGES has one line per garage, "slug token"; the first `garages` lines are used
-- and each request goes to the next garage in turn (thread t starts at garage t), with a plate
-- no other request uses. mode=exit: TICKETS has one line per car inside, "slug token number";
-- each thread pays its own slice once (past its end: deliberate 409s, counted apart).
-- path=api (the default) sends each request to /api/garages/<slug>/tickets...; path=seed
-- sends it to /api/tickets..., where the token, scoped to that one garage, names it.
dofile("bench/lua/common.lua")

local n = 0
local letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
local methods = {"Cash", "Credit Card", "Debit Card", "Mobile Payment"}

local function split(line)
   local fields = {}
   for f in line:gmatch("%S+") do table.insert(fields, f) end
   return fields
end

function init(args)
   parse_args(args)
   wrk.headers["Content-Type"] = "application/json"
   mode = opts.mode or "entry"
   rows = {}
   if mode == "entry" then
      local limit = tonumber(opts.garages or "1000000")
      for line in io.lines(opts.file) do
         if line ~= "" and #rows < limit then table.insert(rows, split(line)) end
      end
      n = tid  -- threads start at different garages
   else
      for _, line in ipairs(load_slice(opts.file)) do table.insert(rows, split(line)) end
   end
   prefix = (opts.tag or "BN") .. letters:sub(tid % #letters + 1, tid % #letters + 1)
   per_garage_paths = (opts.path or "api") == "api"
end

local function base(slug)
   if per_garage_paths then return "/api/garages/" .. slug .. "/tickets" end
   return "/api/tickets"
end

function request()
   n = n + 1
   local row = rows[(n - 1) % #rows + 1]
   -- wrk.format sends the headers given instead of wrk.headers, not on top of them
   local headers = {["Authorization"] = "Bearer " .. row[2]}
   for name, value in pairs(wrk.headers) do headers[name] = headers[name] or value end
   if mode == "entry" then
      local body = string.format('{"licensePlate": "%s %d", "vehicleType": "Car"}', prefix, n)
      return wrk.format("POST", base(row[1]), headers, body)
   end
   local body = '{"paymentMethod": "' .. methods[n % 4 + 1] .. '"}'
   return wrk.format("PUT", base(row[1]) .. "/" .. row[3] .. "/exit", headers, body)
end
