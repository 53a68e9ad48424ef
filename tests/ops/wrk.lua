-- POSTs one GraphQL body (the file named by WRK_BODY) over and over, and
-- prints what wrk counted as one JSON line: completed responses, responses
-- that were not 2xx, and socket errors by kind.
local file = io.open(os.getenv("WRK_BODY"))
local body = file:read("*a")
file:close()
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = body

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests": %d, "duration_us": %d, "non2xx": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
