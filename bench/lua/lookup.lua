-- GET /api/tickets/<number>, walking this thread's slice of the ticket list.
dofile("bench/lua/common.lua")

local i = 0

function init(args)
   parse_args(args)
   numbers = load_slice(opts.file)
end

function request()
   i = i % #numbers + 1
   return wrk.format("GET", "/api/tickets/" .. numbers[i])
end
