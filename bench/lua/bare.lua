-- The bare-Flask reference: POST /insert with a small JSON body.
dofile("bench/lua/common.lua")

function init(args)
   parse_args(args)
   wrk.headers["Content-Type"] = "application/json"
   req = wrk.format("POST", "/insert", nil, '{"payload": "bench"}')
end

function request()
   return req
end
