-- 20 rows of a random genre, ordered by name (with BENCH_COUNT=1, include_count=true).
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
local genres = tonumber(os.getenv("BENCH_GENRES") or "25")
local count = os.getenv("BENCH_COUNT") == "1" and "&include_count=true" or ""
request = function()
  return wrk.format("GET", "/api/chinook/_table/track?filter=genre_id%20%3D%20"
    .. math.random(1, genres) .. "&order=name&limit=20" .. count)
end
