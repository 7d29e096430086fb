-- The decision endpoint's load: every request names the next credential of a file, and every
-- answer is checked. Described by the environment, so no token reaches argv:
--   BENCH_MODE              check (POST /v1/check), authorize (GET /v1/authorize) or plain (GET)
--   BENCH_PATH              the request path, e.g. /v1/check, /v1/authorize?api=orders, /bare
--   BENCH_API               the API identifier of check bodies
--   BENCH_TOKENS_FILE       credentials, one per line (check and authorize)
--   BENCH_TOKENS_MAX        use only the first N lines (0: all)
--   BENCH_GATEWAY_SECRET    sent as X-AccessPlane-Gateway-Secret (optional)
--   BENCH_CREDENTIAL_HEADER authorize: send each line as this header's value instead of
--                           Authorization: Bearer (a gateway's forwarded client certificate)
--   BENCH_EXPECT_STATUS     the only acceptable status
--   BENCH_EXPECT_REASON     the only acceptable reason (body "reason" or X-AccessPlane-Reason)
--   BENCH_EXPECT_BODY       plain mode: a substring every body must hold
--   BENCH_PACE_MS           mean pause of a connection between its requests, in ms (0: none)
-- Every mode (the bare endpoint too) builds its requests in init and checks every answer, so
-- wrk does the same work per request whatever it drives. At the end it prints one line
-- "BENCH_RESULT {json}" and, if an answer was unexpected, "BENCH_SAMPLE <first one>".

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local function env(name, default)
  local value = os.getenv(name)
  if value == nil or value == "" then
    return default
  end
  return value
end

local prepared = {}
local count = 0
local index = 0
local expect_status = tonumber(env("BENCH_EXPECT_STATUS", "200"))
local expect_reason = env("BENCH_EXPECT_REASON", nil)
local expect_body = env("BENCH_EXPECT_BODY", nil)
local reason_pattern = nil
if expect_reason then
  reason_pattern = '"reason"%s*:%s*"' .. expect_reason .. '"'
end

function init(args)
  local mode = env("BENCH_MODE", "plain")
  local path = env("BENCH_PATH", "/")
  local secret = env("BENCH_GATEWAY_SECRET", nil)
  local function headers()
    local h = {}
    if secret then
      h["X-AccessPlane-Gateway-Secret"] = secret
    end
    return h
  end
  if mode == "plain" then
    prepared[1] = wrk.format("GET", path, headers(), nil)
  else
    local limit = tonumber(env("BENCH_TOKENS_MAX", "0"))
    local api = env("BENCH_API", "orders")
    local credential_header = env("BENCH_CREDENTIAL_HEADER", nil)
    local file = assert(io.open(assert(env("BENCH_TOKENS_FILE", nil), "BENCH_TOKENS_FILE"), "r"))
    for token in file:lines() do
      if token ~= "" then
        local h = headers()
        local body = nil
        if mode == "check" then
          h["Content-Type"] = "application/json"
          body = string.format(
            '{"credential":"%s","api":"%s","method":"GET","path":"/orders","ip":"203.0.113.7"}',
            token, api)
          prepared[#prepared + 1] = wrk.format("POST", path, h, body)
        else
          -- What a gateway's forward auth sends (Traefik, nginx auth_request).
          if credential_header then
            h[credential_header] = token
          else
            h["Authorization"] = "Bearer " .. token
          end
          h["X-Forwarded-Method"] = "GET"
          h["X-Forwarded-Uri"] = "/orders"
          prepared[#prepared + 1] = wrk.format("GET", path, h, nil)
        end
        if limit > 0 and #prepared >= limit then
          break
        end
      end
    end
    file:close()
  end
  count = #prepared
  assert(count > 0, "no requests: empty token file?")
  index = 0
  responses = 0
  unexpected = 0
  sample = ""
end

function request()
  index = index + 1
  if index > count then
    index = 1
  end
  return prepared[index]
end

local function reason_of(headers, body)
  if reason_pattern and body and string.find(body, reason_pattern) then
    return expect_reason
  end
  return headers["x-accessplane-reason"] or headers["X-AccessPlane-Reason"]
end

function response(status, headers, body)
  responses = responses + 1
  local ok = status == expect_status
  if ok and expect_reason then
    ok = reason_of(headers, body) == expect_reason
  end
  if ok and expect_body then
    ok = body ~= nil and string.find(body, expect_body, 1, true) ~= nil
  end
  if not ok then
    unexpected = unexpected + 1
    if sample == "" then
      sample = tostring(status) .. " " .. string.sub(body or "", 1, 300)
    end
  end
end

local pace = tonumber(env("BENCH_PACE_MS", "0"))
if pace > 0 then
  -- wrk waits delay() ms before each request of a connection (an integer: the fraction is
  -- rounded at random so the mean is exact); jitter keeps connections from marching in step.
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
  function delay()
    local wait = pace * (0.5 + math.random())
    local whole = math.floor(wait)
    if math.random() < wait - whole then
      whole = whole + 1
    end
    return whole
  end
end

function done(summary, latency, requests)
  local answered, wrong, first = 0, 0, ""
  for _, thread in ipairs(threads) do
    answered = answered + thread:get("responses")
    wrong = wrong + thread:get("unexpected")
    if first == "" then
      first = thread:get("sample")
    end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"responses":%d,"unexpected":%d,' ..
    '"latency_us":{"p50":%d,"p95":%d,"p99":%d,"mean":%.1f,"max":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    answered, wrong,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.mean, latency.max))
  if first ~= "" then
    io.write("BENCH_SAMPLE " .. string.gsub(first, "\n", " ") .. "\n")
  end
end
