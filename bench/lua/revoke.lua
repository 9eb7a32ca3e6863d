-- Revocation (RFC 7009): POST <revocation endpoint> token=..., client_secret_basic.
--   BENCH_BASIC        base64(client_id:client_secret)
-- then either
--   BENCH_TOKEN        one token, revoked again and again (after the first request the
--                      server finds it already revoked: the read-only path, answered 200)
-- or
--   BENCH_TOKEN_FILE   a file of tokens, one a line, each revoked once in turn (the write
--                      path); BENCH_TOKEN_OFFSET skips the ones the warm-up used.  When
--                      the pool runs out it starts over (already revoked); "extra.sent"
--                      in the report tells how many requests were made, so the caller
--                      knows which share of the run found fresh tokens.
local common = dofile("common.lua")

local basic = common.env("BENCH_BASIC")
common.form_post(basic)
local headers = wrk.headers
local single = os.getenv("BENCH_TOKEN")
local tokens = nil
position = 0 -- global: done() reads it with thread:get

if single ~= nil and single ~= "" then
  wrk.body = "token=" .. single
else
  tokens = {}
  for line in io.lines(common.env("BENCH_TOKEN_FILE")) do
    if line ~= "" then
      tokens[#tokens + 1] = line
    end
  end
  if #tokens == 0 then
    error("BENCH_TOKEN_FILE holds no tokens")
  end
  position = tonumber(os.getenv("BENCH_TOKEN_OFFSET") or "0") or 0

  function request()
    local token = tokens[(position % #tokens) + 1]
    position = position + 1
    return wrk.format("POST", nil, headers, "token=" .. token)
  end
end

common.report_thread_sum("position", "sent")
