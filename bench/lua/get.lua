-- GET one path with the given headers (token, session cookie, HX-Request).
dofile("bench/lua/common.lua")

function init(args)
   parse_args(args)
   req = wrk.format("GET", opts.path or "/")
end

function request()
   return req
end
