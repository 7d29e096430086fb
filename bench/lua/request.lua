-- One fixed request per connection, described by the environment so no secret reaches argv:
--   BENCH_METHOD (GET or POST), BENCH_BODY_FILE (JSON body, optional), BENCH_TOKEN (optional).
-- At the end, prints one line "BENCH_RESULT {json}" that bench/load.py parses; wrk's own
-- --latency output lacks the 95th percentile.

function init(args)
  wrk.method = os.getenv("BENCH_METHOD") or "GET"
  local body_file = os.getenv("BENCH_BODY_FILE")
  if body_file and body_file ~= "" then
    local f = assert(io.open(body_file, "rb"))
    wrk.body = f:read("*a")
    f:close()
    wrk.headers["Content-Type"] = "application/json"
  end
  local token = os.getenv("BENCH_TOKEN")
  if token and token ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. token
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p95":%d,"p99":%d,"mean":%.1f,"max":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.mean, latency.max))
end
