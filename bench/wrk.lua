-- The request bodies of a file named by BENCH_BODIES: either one JSON body
-- a line, cycled (so with -t1 every request carries the next one), or a
-- template (bench/fresh.py) whose slots are drawn at random for every
-- request, seeded by BENCH_SEED so that no two runs send the same values.
local bodies = {}
local template = nil
local slots = {}
for line in io.lines(os.getenv("BENCH_BODIES")) do
  if line:sub(1, 9) == "template " then
    template = line:sub(10)
  elseif template then
    local words = {}
    for word in line:gmatch("%S+") do words[#words + 1] = word end
    local kind, number = words[1], tonumber(words[2])
    if kind == "pick" then
      local choices = {}
      for k = 3, #words do choices[#choices + 1] = words[k] end
      slots[number] = function() return choices[math.random(#choices)] end
    else
      local low, high = tonumber(words[3]), tonumber(words[4])
      if kind == "int" then
        slots[number] = function() return tostring(math.random(low, high)) end
      elseif kind == "date" then
        slots[number] = function() return os.date("!%Y-%m-%dT%H:%M:%SZ", math.random(low, high)) end
      elseif kind == "within" then
        slots[number] = function() return "PT" .. math.random(low, high) .. "S" end
      end
    end
  elseif #line > 0 then
    bodies[#bodies + 1] = line
  end
end
math.randomseed(tonumber(os.getenv("BENCH_SEED") or "1"))
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local function draw(number)
  return slots[tonumber(number)]()
end

request = function()
  if template then
    local body = template:gsub("@(%d+)@", draw)
    return wrk.format(nil, nil, nil, body)
  end
  i = i % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[i])
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "non2xx": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
