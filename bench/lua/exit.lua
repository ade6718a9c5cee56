-- PUT /api/tickets/<number>/exit, each ticket of this thread's slice once.
-- Past the end of the list it starts over: those answers are deliberate 409s
-- (already paid), counted apart by bench/run.py.
dofile("bench/lua/common.lua")

local i = 0
local methods = {"Cash", "Credit Card", "Debit Card", "Mobile Payment"}

function init(args)
   parse_args(args)
   wrk.headers["Content-Type"] = "application/json"
   numbers = load_slice(opts.file)
end

function request()
   i = i % #numbers + 1
   local body = '{"paymentMethod": "' .. methods[i % 4 + 1] .. '"}'
   return wrk.format("PUT", "/api/tickets/" .. numbers[i] .. "/exit", nil, body)
end
