-- BENCH_BATCH new tracks per request (1: a single insert).
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
local n = tonumber(os.getenv("BENCH_BATCH") or "1")
local record = '{"name":"Bench track","album_id":1,"media_type_id":1,"genre_id":1,'
  .. '"composer":"wrk","milliseconds":240000,"bytes":7000000,"unit_price":0.99}'
local records = {}
for i = 1, n do records[i] = record end
wrk.method = "POST"
wrk.path = "/api/chinook/_table/track"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"resource":[' .. table.concat(records, ",") .. ']}'
