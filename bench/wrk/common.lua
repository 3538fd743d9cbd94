-- Shared by the scenario scripts: the API key (ignored by the reference).
local key = os.getenv("BENCH_API_KEY")
if key and key ~= "" then wrk.headers["X-API-Key"] = key end
