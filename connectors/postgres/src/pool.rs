//! The connection pool: deadpool over sqlx `PgConnection`s.
//!
//! sqlx's own pool sends a round trip (`Sync`) on a task of its own each time
//! a connection comes back, to find connections a cancelled statement left
//! mid-protocol — one more message and wake-up per request for the server and
//! for us. Here a [`Lease`] knows instead: a connection goes back to the pool
//! as it is once its statement finished (or failed in the database), and is
//! dropped when the statement was cut short (the request went away) or the
//! connection itself failed. Connections idle for [`IDLE`] are closed.
//!
//! A statement cut short (the client went away, the request future was
//! dropped) is also cancelled in the database: closing the connection alone
//! would leave the backend running the query until it next writes to the
//! socket, which for a slow query can be minutes. Each connection knows its
//! backend's pid, and a cancelled lease asks the server, on a connection of
//! its own, to `pg_cancel_backend` it.

use deadpool::managed::{self, Metrics, Object, PoolError, RecycleError, RecycleResult};
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use std::sync::Arc;
use std::time::Duration;

/// An idle connection is closed after this long.
const IDLE: Duration = Duration::from_secs(300);

pub struct Manager {
    opts: Arc<PgConnectOptions>,
}

/// A pooled connection, and whether it came back unfit to serve again.
pub struct Conn {
    pg: PgConnection,
    unfit: bool,
    /// The server process serving this connection (`pg_backend_pid()`).
    pid: i32,
    opts: Arc<PgConnectOptions>,
}

impl managed::Manager for Manager {
    type Type = Conn;
    type Error = sqlx::Error;

    async fn create(&self) -> Result<Conn, sqlx::Error> {
        let mut pg = PgConnection::connect_with(&self.opts).await?;
        let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut pg)
            .await?;
        Ok(Conn {
            pg,
            unfit: false,
            pid,
            opts: self.opts.clone(),
        })
    }

    /// No round trip: a connection came back fit only if its last statement
    /// finished. An unfit one is dropped (closing it) and another is taken.
    async fn recycle(&self, c: &mut Conn, _: &Metrics) -> RecycleResult<sqlx::Error> {
        if c.unfit {
            Err(RecycleError::message("left mid-statement"))
        } else {
            Ok(())
        }
    }
}

pub type Pool = managed::Pool<Manager>;

/// A pool of at most `max` connections; waiting for one or opening one
/// gives up after `timeout`.
pub fn pool(opts: PgConnectOptions, max: usize, timeout: Duration) -> Result<Pool, String> {
    let pool = Pool::builder(Manager {
        opts: Arc::new(opts),
    })
    .max_size(max.max(1))
    .wait_timeout(Some(timeout))
    .create_timeout(Some(timeout))
    .runtime(deadpool::Runtime::Tokio1)
    .build()
    .map_err(|e| e.to_string())?;
    let weak = pool.weak();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(IDLE / 4).await;
            let Some(pool) = weak.upgrade() else { return };
            if pool.is_closed() {
                return;
            }
            pool.retain(|_, m| m.last_used() < IDLE);
        }
    });
    Ok(pool)
}

/// Why no connection could be had.
pub enum Unavailable {
    /// Opening a connection failed.
    Connect(sqlx::Error),
    /// Timed out or closed: the message says which.
    Pool(String),
}

/// A connection on loan from the pool.
pub struct Lease {
    conn: Object<Manager>,
    /// The connection is between statements and may serve another request.
    settled: bool,
    /// A statement was sent and its outcome not yet settled.
    running: bool,
}

impl Lease {
    pub async fn of(pool: &Pool) -> Result<Lease, Unavailable> {
        match pool.get().await {
            Ok(conn) => Ok(Lease {
                conn,
                settled: true,
                running: false,
            }),
            Err(PoolError::Backend(e)) => Err(Unavailable::Connect(e)),
            Err(e) => Err(Unavailable::Pool(e.to_string())),
        }
    }

    /// The connection, for one statement; [`settle`](Self::settle) its outcome.
    pub fn conn(&mut self) -> &mut PgConnection {
        self.settled = false;
        self.running = true;
        &mut self.conn.pg
    }

    /// The outcome of the statement run on [`conn`](Self::conn): the
    /// connection may serve again unless the connection itself failed.
    pub fn settle<T>(&mut self, r: Result<T, sqlx::Error>) -> Result<T, sqlx::Error> {
        self.running = false;
        self.settled = match &r {
            Ok(_) => true,
            Err(e) => {
                !broken(e) && matches!(e, sqlx::Error::Database(_) | sqlx::Error::RowNotFound)
            }
        };
        r
    }

    /// Not to serve again (a transaction left open).
    pub fn discard(&mut self) {
        self.settled = false;
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        // back to the pool, which drops it on the next checkout if unfit
        self.conn.unfit = !self.settled;
        if self.running {
            cancel(self.conn.opts.clone(), self.conn.pid);
        }
    }
}

/// Asks the server to cancel what backend `pid` is running, from a
/// connection of its own (the leased one is mid-statement). Best effort: a
/// query that already ended is not affected, and a failure is only logged.
fn cancel(opts: Arc<PgConnectOptions>, pid: i32) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    runtime.spawn(async move {
        let done = async {
            let mut side = PgConnection::connect_with(&opts).await?;
            sqlx::query("SELECT pg_cancel_backend($1)")
                .bind(pid)
                .execute(&mut side)
                .await?;
            side.close().await
        };
        match tokio::time::timeout(Duration::from_secs(10), done).await {
            Ok(Ok(())) => tracing::debug!(pid, "cancelled a statement its request left"),
            Ok(Err(e)) => tracing::warn!(pid, "could not cancel a statement its request left: {e}"),
            Err(_) => tracing::warn!(
                pid,
                "could not cancel a statement its request left: timed out"
            ),
        }
    });
}

/// Whether an error says the connection, not the statement, failed (worth
/// one more try on another connection for a read).
pub fn broken(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) | sqlx::Error::Tls(_) => true,
        // connection exceptions (08) and the server ending the session
        // (57P01 admin shutdown, 57P02 crash, 57P03 starting, 57P04 database dropped)
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
        _ => false,
    }
}
