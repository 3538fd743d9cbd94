//! The system store: an embedded SQLite database in the data directory holding
//! registered services (configs encrypted), users (argon2id hashes), apps (API
//! key hashes), sessions and settings. Several instances may share it; each
//! service change bumps a version they poll. Credentials are looked up here and
//! remembered for `auth.credential_cache_ms` (see [`TtlCache`]): a logout or a
//! revoked key stops working on this instance at once and on the others within that time.

use crate::system::credential_cache::TtlCache;
use sqlx::Row;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

// Column lists, as macros so that statements stay `&'static str` (no SQL is built at run time).
macro_rules! user_cols {
    () => {
        "id, email, name, role, active, created_at, updated_at"
    };
}
macro_rules! user_cols_u {
    () => {
        "u.id, u.email, u.name, u.role, u.active, u.created_at, u.updated_at"
    };
}
macro_rules! app_cols {
    () => {
        "id, name, description, role, key_prefix, active, created_at, updated_at"
    };
}

#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
    /// Resolved API keys (by hash) and sessions (by id), see [`TtlCache`].
    apps_by_key: Arc<TtlCache<String, App>>,
    sessions: Arc<TtlCache<String, (SessionRow, User)>>,
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

impl Store {
    /// Opens (or creates) the store; `credential_ttl` is how long a resolved
    /// key or session is remembered (zero: never).
    pub async fn open(data_dir: &Path, credential_ttl: Duration) -> Result<Store, sqlx::Error> {
        let opts = SqliteConnectOptions::new()
            .filename(data_dir.join("system.sqlite"))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await?;
        // The store's migrations (`migrations/system/`), applied in order,
        // each in a transaction: two instances of different versions sharing
        // a store never meet a half-changed schema. A store migrated by a
        // newer version is used as it is (migrations only add).
        let mut migrator = sqlx::migrate!("./migrations/system");
        migrator.set_ignore_missing(true);
        migrator
            .run(&pool)
            .await
            .map_err(|e| sqlx::Error::Migrate(Box::new(e)))?;
        Ok(Store {
            pool,
            apps_by_key: Arc::new(TtlCache::new(credential_ttl)),
            sessions: Arc::new(TtlCache::new(credential_ttl)),
        })
    }

    /// Called after every write to users, apps or sessions.
    fn forget_credentials(&self) {
        self.apps_by_key.clear();
        self.sessions.clear();
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

    // -------------------------------------------------------------- users

    pub async fn users(&self) -> Result<Vec<User>, sqlx::Error> {
        let rows = sqlx::query(concat!("SELECT ", user_cols!(), " FROM user ORDER BY id"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(User::from_row).collect()
    }

    pub async fn user(&self, id: i64) -> Result<Option<User>, sqlx::Error> {
        let row = sqlx::query(concat!("SELECT ", user_cols!(), " FROM user WHERE id = ?1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(User::from_row).transpose()
    }

    /// The user with this (lower-case) email, with their password hash.
    pub async fn user_login(&self, email: &str) -> Result<Option<(User, String)>, sqlx::Error> {
        let row = sqlx::query(concat!(
            "SELECT ",
            user_cols!(),
            ", password_hash FROM user WHERE email = ?1"
        ))
        .bind(email)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((User::from_row(&r)?, r.try_get("password_hash")?)))
            .transpose()
    }

    pub async fn count_users(&self) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM user")
            .fetch_one(&self.pool)
            .await
    }

    pub async fn insert_user(&self, u: &UserChange) -> Result<User, sqlx::Error> {
        let row = sqlx::query(concat!("INSERT INTO user (email, name, password_hash, role, active) VALUES (?1, ?2, ?3, ?4, ?5)
             RETURNING ", user_cols!()))
        .bind(&u.email)
        .bind(u.name.clone().flatten())
        .bind(&u.password_hash)
        .bind(&u.role)
        .bind(u.active.unwrap_or(true))
        .fetch_one(&self.pool)
        .await?;
        User::from_row(&row)
    }

    /// Applies the fields that are `Some`; a new password or deactivation ends the user's sessions.
    pub async fn update_user(&self, id: i64, u: &UserChange) -> Result<Option<User>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(concat!(
            "UPDATE user SET email = COALESCE(?2, email),
                 name = CASE WHEN ?3 THEN ?4 ELSE name END,
                 password_hash = COALESCE(?5, password_hash),
                 role = COALESCE(?6, role),
                 active = COALESCE(?7, active),
                 updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
             WHERE id = ?1 RETURNING ",
            user_cols!()
        ))
        .bind(id)
        .bind(&u.email)
        .bind(u.name.is_some())
        .bind(u.name.clone().flatten())
        .bind(&u.password_hash)
        .bind(&u.role)
        .bind(u.active)
        .fetch_optional(&mut *tx)
        .await?;
        if row.is_some() && (u.password_hash.is_some() || u.active == Some(false)) {
            sqlx::query("DELETE FROM session WHERE user_id = ?1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        self.forget_credentials();
        row.as_ref().map(User::from_row).transpose()
    }

    pub async fn delete_user(&self, id: i64) -> Result<bool, sqlx::Error> {
        let r = sqlx::query("DELETE FROM user WHERE id = ?1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        self.forget_credentials();
        Ok(r.rows_affected() > 0)
    }

    // -------------------------------------------------------------- apps

    pub async fn apps(&self) -> Result<Vec<App>, sqlx::Error> {
        let rows = sqlx::query(concat!("SELECT ", app_cols!(), " FROM app ORDER BY id"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(App::from_row).collect()
    }

    pub async fn app(&self, id: i64) -> Result<Option<App>, sqlx::Error> {
        let row = sqlx::query(concat!("SELECT ", app_cols!(), " FROM app WHERE id = ?1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(App::from_row).transpose()
    }

    /// The active app whose key hashes to `key_hash`.
    pub async fn app_by_key(&self, key_hash: &str) -> Result<Option<App>, sqlx::Error> {
        if let Some(app) = self.apps_by_key.get(key_hash) {
            return Ok(Some(app));
        }
        let row = sqlx::query(concat!(
            "SELECT ",
            app_cols!(),
            " FROM app WHERE key_hash = ?1 AND active = 1"
        ))
        .bind(key_hash)
        .fetch_optional(&self.pool)
        .await?;
        let app = row.as_ref().map(App::from_row).transpose()?;
        if let Some(a) = &app {
            self.apps_by_key.put(key_hash.to_string(), a.clone());
        }
        Ok(app)
    }

    pub async fn insert_app(&self, a: &AppChange, key: &KeyHash) -> Result<App, sqlx::Error> {
        let row = sqlx::query(concat!(
            "INSERT INTO app (name, description, role, key_hash, key_prefix, active)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING ",
            app_cols!()
        ))
        .bind(&a.name)
        .bind(a.description.clone().flatten())
        .bind(&a.role)
        .bind(&key.hash)
        .bind(&key.prefix)
        .bind(a.active.unwrap_or(true))
        .fetch_one(&self.pool)
        .await?;
        App::from_row(&row)
    }

    /// Applies the fields that are `Some`, and a new key when given.
    pub async fn update_app(
        &self,
        id: i64,
        a: &AppChange,
        key: Option<&KeyHash>,
    ) -> Result<Option<App>, sqlx::Error> {
        let row = sqlx::query(concat!(
            "UPDATE app SET name = COALESCE(?2, name),
                 description = CASE WHEN ?3 THEN ?4 ELSE description END,
                 role = COALESCE(?5, role),
                 active = COALESCE(?6, active),
                 key_hash = COALESCE(?7, key_hash),
                 key_prefix = COALESCE(?8, key_prefix),
                 updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
             WHERE id = ?1 RETURNING ",
            app_cols!()
        ))
        .bind(id)
        .bind(&a.name)
        .bind(a.description.is_some())
        .bind(a.description.clone().flatten())
        .bind(&a.role)
        .bind(a.active)
        .bind(key.map(|k| &k.hash))
        .bind(key.map(|k| &k.prefix))
        .fetch_optional(&self.pool)
        .await?;
        self.forget_credentials();
        row.as_ref().map(App::from_row).transpose()
    }

    pub async fn delete_app(&self, id: i64) -> Result<bool, sqlx::Error> {
        let r = sqlx::query("DELETE FROM app WHERE id = ?1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        self.forget_credentials();
        Ok(r.rows_affected() > 0)
    }

    // -------------------------------------------------------------- sessions

    pub async fn insert_session(&self, s: &SessionRow) -> Result<(), sqlx::Error> {
        // Sessions long past refreshing are cleared as new ones begin.
        sqlx::query("DELETE FROM session WHERE expires_at < ?1")
            .bind(s.created_at - 30 * 86_400)
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "INSERT INTO session (id, user_id, generation, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .bind(&s.id)
        .bind(s.user_id)
        .bind(s.generation)
        .bind(s.created_at)
        .bind(s.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A session and its user.
    pub async fn session(&self, id: &str) -> Result<Option<(SessionRow, User)>, sqlx::Error> {
        if let Some(found) = self.sessions.get(id) {
            return Ok(Some(found));
        }
        let row = sqlx::query(concat!(
            "SELECT s.id AS sid, s.user_id, s.generation, s.created_at AS s_created, s.expires_at,
                    ",
            user_cols_u!(),
            "
             FROM session s JOIN user u ON u.id = s.user_id WHERE s.id = ?1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok((
                SessionRow {
                    id: r.try_get("sid")?,
                    user_id: r.try_get("user_id")?,
                    generation: r.try_get("generation")?,
                    created_at: r.try_get("s_created")?,
                    expires_at: r.try_get("expires_at")?,
                },
                User::from_row(&r)?,
            ))
        })
        .transpose()
        .inspect(|found| {
            if let Some(f) = found {
                self.sessions.put(id.to_string(), f.clone());
            }
        })
    }

    /// Moves a session to its next generation (a refresh), if it still exists.
    pub async fn renew_session(
        &self,
        id: &str,
        generation: i64,
        expires_at: i64,
    ) -> Result<bool, sqlx::Error> {
        let r = sqlx::query(
            "UPDATE session SET generation = ?2, expires_at = ?3 WHERE id = ?1 AND generation = ?2 - 1",
        )
        .bind(id)
        .bind(generation)
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        self.forget_credentials();
        Ok(r.rows_affected() > 0)
    }

    pub async fn delete_session(&self, id: &str) -> Result<bool, sqlx::Error> {
        let r = sqlx::query("DELETE FROM session WHERE id = ?1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        self.forget_credentials();
        Ok(r.rows_affected() > 0)
    }

    pub async fn event_scripts(&self) -> Result<Vec<EventScript>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT name, content, active, created_at, updated_at FROM event_script ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(EventScript::from_row).collect()
    }

    /// Creates or replaces the script of `name`; `create` refuses to replace.
    pub async fn put_event_script(
        &self,
        name: &str,
        content: &str,
        active: bool,
        create: bool,
    ) -> Result<(), sqlx::Error> {
        let sql = if create {
            "INSERT INTO event_script (name, content, active) VALUES (?, ?, ?)"
        } else {
            "INSERT INTO event_script (name, content, active) VALUES (?, ?, ?)
             ON CONFLICT (name) DO UPDATE SET content = excluded.content, active = excluded.active,
                 updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"
        };
        sqlx::query(sql)
            .bind(name)
            .bind(content)
            .bind(active)
            .execute(&self.pool)
            .await
            .map(|_| ())
    }

    pub async fn delete_event_script(&self, name: &str) -> Result<bool, sqlx::Error> {
        let done = sqlx::query("DELETE FROM event_script WHERE name = ?")
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A user as the API shows it: never with the password hash.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: Option<String>,
    pub role: String,
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl User {
    fn from_row(r: &sqlx::sqlite::SqliteRow) -> Result<User, sqlx::Error> {
        Ok(User {
            id: r.try_get("id")?,
            email: r.try_get("email")?,
            name: r.try_get("name")?,
            role: r.try_get("role")?,
            active: r.try_get("active")?,
            created_at: r.try_get("created_at")?,
            updated_at: r.try_get("updated_at")?,
        })
    }
}

/// New or changed user fields; `None` leaves a field as it is
/// (`name: Some(None)` clears it).
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    pub email: Option<String>,
    pub name: Option<Option<String>>,
    pub password_hash: Option<String>,
    pub role: Option<String>,
    pub active: Option<bool>,
}

/// An app as the API shows it: its key is shown once, at creation, and never stored.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct App {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub role: String,
    pub key_prefix: String,
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl App {
    fn from_row(r: &sqlx::sqlite::SqliteRow) -> Result<App, sqlx::Error> {
        Ok(App {
            id: r.try_get("id")?,
            name: r.try_get("name")?,
            description: r.try_get("description")?,
            role: r.try_get("role")?,
            key_prefix: r.try_get("key_prefix")?,
            active: r.try_get("active")?,
            created_at: r.try_get("created_at")?,
            updated_at: r.try_get("updated_at")?,
        })
    }
}

#[derive(Debug, Clone, Default)]
pub struct AppChange {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub role: Option<String>,
    pub active: Option<bool>,
}

/// What is stored of an API key.
pub struct KeyHash {
    pub hash: String,
    pub prefix: String,
}

#[derive(Debug, Clone)]
pub struct SessionRow {
    pub id: String,
    pub user_id: i64,
    pub generation: i64,
    pub created_at: i64,
    pub expires_at: i64,
}

/// A hook script kept in the store (`/api/system/event_script`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct EventScript {
    pub name: String,
    pub content: String,
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl EventScript {
    fn from_row(r: &sqlx::sqlite::SqliteRow) -> Result<EventScript, sqlx::Error> {
        Ok(EventScript {
            name: r.try_get("name")?,
            content: r.try_get("content")?,
            active: r.try_get("active")?,
            created_at: r.try_get("created_at")?,
            updated_at: r.try_get("updated_at")?,
        })
    }
}

/// Whether a store error is a UNIQUE constraint (a duplicate email or app name).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn tables(store: &Store) -> Vec<String> {
        sqlx::query_scalar("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
            .fetch_all(&store.pool)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// A new store gets every migration, recorded; opening it again applies
    /// nothing twice; a store made before migrations existed is taken as it is.
    #[tokio::test]
    async fn the_store_is_made_by_its_migrations() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = Store::open(dir.path(), Duration::ZERO)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let made = tables(&store).await;
        for t in [
            "_sqlx_migrations",
            "app",
            "event_script",
            "service",
            "session",
            "user",
        ] {
            assert!(made.iter().any(|m| m == t), "{t} missing from {made:?}");
        }
        let applied: i64 =
            sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
                .fetch_one(&store.pool)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(applied, 1);
        store.close().await;
        let again = Store::open(dir.path(), Duration::ZERO)
            .await
            .unwrap_or_else(|e| panic!("opened twice: {e}"));
        again.close().await;

        // a store of the first wave: the same tables, no migration table
        let old = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let opts = SqliteConnectOptions::new()
            .filename(old.path().join("system.sqlite"))
            .create_if_missing(true);
        let pool = SqlitePoolOptions::new()
            .connect_with(opts)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let first_wave = include_str!("../../migrations/system/0001_initial.sql");
        sqlx::raw_sql(first_wave)
            .execute(&pool)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        sqlx::query("INSERT INTO setting (key, value) VALUES ('kept', 'yes')")
            .execute(&pool)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        pool.close().await;
        let store = Store::open(old.path(), Duration::ZERO)
            .await
            .unwrap_or_else(|e| panic!("a first-wave store: {e}"));
        let kept: String = sqlx::query_scalar("SELECT value FROM setting WHERE key = 'kept'")
            .fetch_one(&store.pool)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(kept, "yes");
        store.close().await;
    }
}
