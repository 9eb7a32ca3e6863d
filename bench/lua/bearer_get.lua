-- Resource request: GET <path> with "Authorization: Bearer <token>" (RFC 6750 §2.1), or
-- with no Authorization header at all when BENCH_TOKEN is empty (the unguarded twin).
--   BENCH_TOKEN  an access token with the scope the route needs, or ""
local common = dofile("common.lua")

wrk.method = "GET"
local token = os.getenv("BENCH_TOKEN")
if token ~= nil and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

function done(summary, latency, _requests)
  common.report(summary, latency)
end
