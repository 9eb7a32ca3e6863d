-- Not a measured workload: issues tokens as fast as it can and appends each
-- access_token to BENCH_TOKEN_OUT, one a line, to fill the pool revoke.lua consumes.
--   BENCH_BASIC      base64(client_id:client_secret)
--   BENCH_SCOPE      the scope to request
--   BENCH_TOKEN_OUT  the file to append the tokens to (one wrk thread writes it)
local common = dofile("common.lua")

common.form_post(common.env("BENCH_BASIC"))
wrk.body = "grant_type=client_credentials&scope=" .. common.env("BENCH_SCOPE")

local out = nil
collected = 0 -- global: done() reads it with thread:get

function init(_args)
  out = assert(io.open(common.env("BENCH_TOKEN_OUT"), "a"))
  out:setvbuf("line") -- wrk exits without closing thread states: never buffer
end

function response(status, _headers, body)
  if status == 200 then
    local token = body:match('"access_token"%s*:%s*"([^"]+)"')
    if token ~= nil then
      out:write(token, "\n")
      collected = collected + 1
    end
  end
end

common.report_thread_sum("collected", "collected")
