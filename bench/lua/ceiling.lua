-- Ceiling: GET of a fixed JSON body from a raw ASGI app (bench/ceiling.py).
local common = dofile("common.lua")

wrk.method = "GET"

function done(summary, latency, _requests)
  common.report(summary, latency)
end
