-- The system store as the first wave made it. `IF NOT EXISTS`: a store
-- created before migrations existed (by this same schema) is taken as it is.
-- Migrations only add (tables, columns with defaults, indexes), so an older
-- instance sharing the store keeps working while a newer one has migrated it.
CREATE TABLE IF NOT EXISTS service (
    name        TEXT PRIMARY KEY,
    type        TEXT NOT NULL,
    label       TEXT,
    description TEXT,
    config      TEXT NOT NULL,          -- encrypted JSON
    version     INTEGER NOT NULL,       -- bumped on every change, polled by instances
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE TABLE IF NOT EXISTS setting (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS user (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT NOT NULL UNIQUE,    -- stored lower-case
    name          TEXT,
    password_hash TEXT NOT NULL,           -- argon2id PHC string
    role          TEXT NOT NULL,
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE TABLE IF NOT EXISTS app (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL UNIQUE,
    description TEXT,
    role        TEXT NOT NULL,
    key_hash    TEXT NOT NULL UNIQUE,      -- SHA-256 of the key; the key itself is never stored
    key_prefix  TEXT NOT NULL,             -- the key's first characters, to recognise it
    active      INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE TABLE IF NOT EXISTS session (
    id          TEXT PRIMARY KEY,          -- random; the token's `sid`
    user_id     INTEGER NOT NULL REFERENCES user(id) ON DELETE CASCADE,
    generation  INTEGER NOT NULL,          -- bumped by a refresh: older tokens stop working
    created_at  INTEGER NOT NULL,          -- unix seconds
    expires_at  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS event_script (
    name        TEXT PRIMARY KEY,          -- the event, e.g. demo._table.customers.post.pre_process
    content     TEXT NOT NULL,             -- JavaScript
    active      INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
