"""SQL for a wide catalog: N tables of 10 columns each (a key, a foreign key
to the previous table, eight of assorted types), for bench/run.sh catalog."""
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
print("BEGIN;")
for i in range(n):
    fk = f"REFERENCES t{i - 1:05d}(id)" if i > 0 else ""
    print(
        f"CREATE TABLE t{i:05d} (id serial PRIMARY KEY, parent_id int {fk}, name varchar(80) NOT NULL,"
        f" note text, amount numeric(12,2), qty int DEFAULT 0, active boolean NOT NULL DEFAULT true,"
        f" created_at timestamptz DEFAULT now(), payload jsonb, code uuid);"
    )
    if i % 500 == 499:
        print("COMMIT; BEGIN;")
print("COMMIT;")
