-- Shared by every workload script: the JSON report printed by done().
--
-- wrk runs each script with its directory as the working directory (bench/wrk.py sets
-- it), so a workload loads this file with dofile("common.lua").  Configuration comes
-- from BENCH_* environment variables, never from the command line, so that secrets do
-- not show in `ps`.

local common = {}

local function json_string(value)
  return '"' .. tostring(value):gsub('[%c"\\]', function(c)
    return string.format("\\u%04x", c:byte())
  end) .. '"'
end

local function json_value(value)
  local kind = type(value)
  if kind == "number" then
    return string.format("%.17g", value)
  elseif kind == "table" then
    local parts = {}
    for key, item in pairs(value) do
      parts[#parts + 1] = json_string(key) .. ":" .. json_value(item)
    end
    return "{" .. table.concat(parts, ",") .. "}"
  elseif kind == "boolean" then
    return tostring(value)
  end
  return json_string(value)
end

-- Print one line "BENCH_JSON {...}": totals, socket/status errors and the latency
-- distribution (microseconds) from wrk's histogram.  `extra` is merged in as "extra".
function common.report(summary, latency, extra)
  local result = {
    requests = summary.requests,
    duration_us = summary.duration,
    bytes = summary.bytes,
    errors = {
      connect = summary.errors.connect,
      read = summary.errors.read,
      write = summary.errors.write,
      status = summary.errors.status,
      timeout = summary.errors.timeout,
    },
    latency_us = {
      min = latency.min,
      max = latency.max,
      mean = latency.mean,
      stdev = latency.stdev,
      p50 = latency:percentile(50),
      p90 = latency:percentile(90),
      p99 = latency:percentile(99),
      p999 = latency:percentile(99.9),
    },
    extra = extra or {},
  }
  io.write("BENCH_JSON ", json_value(result), "\n")
end

-- Report, at the end of the run, the sum over wrk's threads of the per-thread global
-- `counter` as extra[`name`]: sets wrk's setup() and done() globals.
function common.report_thread_sum(counter, name)
  local threads = {}
  function setup(thread)
    threads[#threads + 1] = thread
  end
  function done(summary, latency, _requests)
    local total = 0
    for _, thread in ipairs(threads) do
      total = total + (tonumber(thread:get(counter)) or 0)
    end
    common.report(summary, latency, { [name] = total })
  end
end

-- A required BENCH_* environment variable.
function common.env(name)
  local value = os.getenv(name)
  if value == nil or value == "" then
    error("environment variable " .. name .. " is not set")
  end
  return value
end

-- A form-encoded POST with HTTP Basic client authentication (client_secret_basic).
function common.form_post(basic_credentials)
  wrk.method = "POST"
  wrk.headers["Authorization"] = "Basic " .. basic_credentials
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

return common
