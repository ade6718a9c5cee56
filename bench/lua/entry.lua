-- POST /api/tickets with a plate no other request uses: run tag (2 letters,
-- new each run) + thread letter + counter, at most 12 characters.
dofile("bench/lua/common.lua")

local n = 0
local letters = "ABCDEFGHJKLMNPRSTUVWXYZ"

function init(args)
   parse_args(args)
   wrk.headers["Content-Type"] = "application/json"
   prefix = (opts.tag or "BN") .. letters:sub(tid % #letters + 1, tid % #letters + 1)
end

function request()
   n = n + 1
   local body = string.format('{"licensePlate": "%s %d", "vehicleType": "Car"}', prefix, n)
   return wrk.format("POST", "/api/tickets", nil, body)
end
