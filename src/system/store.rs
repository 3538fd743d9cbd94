//! The system store: an embedded SQLite database in the data directory holding
//! registered services (configs encrypted) and settings (the admin key's hash).
//! Several instances may share it; each change bumps a version they poll.

use sqlx::Row;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use std::path::Path;
use std::time::Duration;

#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
}

#[derive(Debug, Clone)]
pub struct StoredService {
    pub name: String,
    pub kind: String,
    pub label: Option<String>,
    pub description: Option<String>,
    /// The service config, encrypted (see `secrets::Cipher`).
    pub config_sealed: String,
    pub version: i64,
}

const SCHEMA: &str = r#"
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
"#;

impl Store {
    pub async fn open(data_dir: &Path) -> Result<Store, sqlx::Error> {
        let opts = SqliteConnectOptions::new()
            .filename(data_dir.join("system.sqlite"))
            .create_if_missing(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await?;
        sqlx::raw_sql(SCHEMA).execute(&pool).await?;
        Ok(Store { pool })
    }

    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
    }

    pub async fn services(&self) -> Result<Vec<StoredService>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT name, type, label, description, config, version FROM service ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StoredService {
                    name: r.try_get("name")?,
                    kind: r.try_get("type")?,
                    label: r.try_get("label")?,
                    description: r.try_get("description")?,
                    config_sealed: r.try_get("config")?,
                    version: r.try_get("version")?,
                })
            })
            .collect()
    }

    /// Name and version of every stored service: what the sync loop polls.
    pub async fn versions(&self) -> Result<Vec<(String, i64)>, sqlx::Error> {
        let rows = sqlx::query("SELECT name, version FROM service")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("name")?, r.try_get("version")?)))
            .collect()
    }

    /// Inserts or replaces a service; returns its new version.
    pub async fn put_service(&self, s: &StoredService, create: bool) -> Result<i64, sqlx::Error> {
        let sql = if create {
            "INSERT INTO service (name, type, label, description, config, version)
             VALUES (?1, ?2, ?3, ?4, ?5, (SELECT COALESCE(MAX(version), 0) + 1 FROM service))
             RETURNING version"
        } else {
            "UPDATE service SET type = ?2, label = ?3, description = ?4, config = ?5,
                 version = (SELECT COALESCE(MAX(version), 0) + 1 FROM service),
                 updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
             WHERE name = ?1 RETURNING version"
        };
        let row = sqlx::query(sql)
            .bind(&s.name)
            .bind(&s.kind)
            .bind(&s.label)
            .bind(&s.description)
            .bind(&s.config_sealed)
            .fetch_one(&self.pool)
            .await?;
        row.try_get("version")
    }

    pub async fn delete_service(&self, name: &str) -> Result<bool, sqlx::Error> {
        let r = sqlx::query("DELETE FROM service WHERE name = ?1")
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() > 0)
    }

    pub async fn setting(&self, key: &str) -> Result<Option<String>, sqlx::Error> {
        let row = sqlx::query("SELECT value FROM setting WHERE key = ?1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| r.try_get("value")).transpose()
    }

    pub async fn set_setting(&self, key: &str, value: &str) -> Result<(), sqlx::Error> {
        sqlx::query("INSERT INTO setting (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await
    }
}
