-- One row by primary key, a random id of the original Chinook tracks.
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
local last = tonumber(os.getenv("BENCH_TRACKS") or "3503")
request = function()
  return wrk.format("GET", "/api/chinook/_table/track/" .. math.random(1, last))
end
