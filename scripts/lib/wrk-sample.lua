-- wrk script for scripts/bench-scale.sh: each request reads a random client of a sample.
-- WRK_SAMPLE names a file of lines "<path?query> <registration access token>".
local targets = {}
for line in io.lines(os.getenv("WRK_SAMPLE")) do
  local path, token = line:match("^(%S+) (%S+)$")
  if path then
    targets[#targets + 1] = { path, "Bearer " .. token }
  end
end
math.randomseed(os.time())

request = function()
  local t = targets[math.random(#targets)]
  return wrk.format("GET", t[1], { ["Authorization"] = t[2] })
end
