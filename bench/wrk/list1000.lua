-- The first 1,000 tracks by key.
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
wrk.path = "/api/chinook/_table/track?order=track_id&limit=1000"
