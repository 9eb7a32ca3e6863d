-- Introspection (RFC 7662): POST <introspection endpoint> token=<a token issued before
-- the run>, the caller authenticated with client_secret_basic.
--   BENCH_BASIC  base64(client_id:client_secret)
--   BENCH_TOKEN  the access token to introspect
local common = dofile("common.lua")

common.form_post(common.env("BENCH_BASIC"))
wrk.body = "token=" .. common.env("BENCH_TOKEN")

function done(summary, latency, _requests)
  common.report(summary, latency)
end
