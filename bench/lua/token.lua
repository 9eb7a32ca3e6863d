-- Token issuance: POST <token endpoint> with client_secret_basic and
-- grant_type=client_credentials (RFC 6749 §4.4.2).  Used for ours and for the peer.
--   BENCH_BASIC  base64(client_id:client_secret)
--   BENCH_SCOPE  the scope to request (both servers are asked for the same one)
local common = dofile("common.lua")

common.form_post(common.env("BENCH_BASIC"))
wrk.body = "grant_type=client_credentials&scope=" .. common.env("BENCH_SCOPE")

function done(summary, latency, _requests)
  common.report(summary, latency)
end
