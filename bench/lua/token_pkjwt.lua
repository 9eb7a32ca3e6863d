-- Token issuance with private_key_jwt (RFC 7523 §2.2): POST <token endpoint> with
-- grant_type=client_credentials and a client assertion instead of a secret.  The server
-- refuses a jti it has seen, so each assertion is sent once; wrk's Lua cannot sign ES256,
-- so they were signed beforehand (bench/assertion_pool.py), one a line:
--   BENCH_ASSERTION_FILE    the pool
--   BENCH_ASSERTION_OFFSET  how many the warm-up took (skipped)
--   BENCH_SCOPE             the scope to request
-- Past the end of the pool a request carries "pool-exhausted" for an assertion: the
-- server answers 401, and those errors make the row INVALID.  "extra.sent" and
-- "extra.exhausted" in the report say how many were sent and how many found none.
local common = dofile("common.lua")

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
local headers = wrk.headers
local prefix = "grant_type=client_credentials&scope=" .. common.env("BENCH_SCOPE")
  .. "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
  .. "&client_assertion="

local assertions = {}
for line in io.lines(common.env("BENCH_ASSERTION_FILE")) do
  if line ~= "" then
    assertions[#assertions + 1] = line
  end
end
position = tonumber(os.getenv("BENCH_ASSERTION_OFFSET") or "0") or 0 -- global: thread:get
exhausted = 0

function request()
  position = position + 1
  local assertion = assertions[position]
  if assertion == nil then
    exhausted = exhausted + 1
    assertion = "pool-exhausted"
  end
  return wrk.format("POST", nil, headers, prefix .. assertion)
end

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

function done(summary, latency, _requests)
  local sent, short = 0, 0
  for _, thread in ipairs(threads) do
    sent = sent + (tonumber(thread:get("position")) or 0)
    short = short + (tonumber(thread:get("exhausted")) or 0)
  end
  common.report(summary, latency, { sent = sent, exhausted = short })
end
