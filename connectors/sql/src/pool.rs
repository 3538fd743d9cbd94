//! The connection pool of the sqlx drivers that need more than sqlx's pool
//! gives (PostgreSQL, MySQL): deadpool over sqlx connections, one
//! [`Backend`] per engine.
//!
//! sqlx's own pool sends a round trip (`Sync`) on a task of its own each time
//! a connection comes back, to find connections a cancelled statement left
//! mid-protocol — one more message and wake-up per request for the server and
//! for us. Here a [`Lease`] knows instead: a connection goes back to the pool
//! as it is once its statement finished (or failed in the database), and is
//! dropped when the statement was cut short (the request went away) or the
//! connection itself failed. Connections idle for [`IDLE`] are closed.
//!
//! A statement cut short is also cancelled in the database: closing the
//! connection alone would leave the server running the query until it next
//! writes to the socket, which for a slow query can be minutes. Each
//! connection knows its session's id, and a lease dropped mid-statement asks
//! for it to be cancelled ([`Backend::cancel`]: `pg_cancel_backend` or `KILL
//! QUERY` on a connection of its own, SQLite's interrupt).

use crate::sqlx_support::connect_error;
use deadpool::managed::{self, Metrics, Object, PoolError, RecycleError, RecycleResult};
use gatehouse_core::{ConnectorError, ErrorKind};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// An idle connection is closed after this long.
const IDLE: Duration = Duration::from_mins(5);

/// What an engine supplies to the pool.
pub trait Backend: Send + Sync + 'static {
    type Conn: Send + 'static;
    type Options: Send + Sync + 'static;
    /// Opens a connection ready to serve (session settings applied), with
    /// the id of its session that [`cancel`](Self::cancel) takes.
    fn connect(
        opts: &Self::Options,
    ) -> impl Future<Output = Result<(Self::Conn, i64), sqlx::Error>> + Send;
    /// Cancels what session `id` is running, from a connection of its own.
    fn cancel(
        opts: &Self::Options,
        id: i64,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;
    /// Whether an error says the connection, not the statement, failed.
    fn broken(e: &sqlx::Error) -> bool;
    /// A short reason the server refused a connection (bad password, no
    /// such database...), for the error a client sees.
    fn refused(_db: &dyn sqlx::error::DatabaseError) -> Option<&'static str> {
        None
    }
    /// Forgets the statements prepared on the connection (after the schema
    /// changed, a prepared statement may describe columns that changed type).
    fn forget_statements(
        _conn: &mut Self::Conn,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send {
        async { Ok(()) }
    }
    /// Runs a statement without parameters or rows (`BEGIN`, `COMMIT`).
    fn simple<'c>(
        conn: &'c mut Self::Conn,
        sql: &'static str,
    ) -> futures_util::future::BoxFuture<'c, Result<(), sqlx::Error>>;
    /// The engine, for log lines.
    const NAME: &'static str;
}

pub struct Manager<B: Backend> {
    opts: Arc<B::Options>,
    /// Bumped by [`renew`]: a connection prepared its statements under an
    /// older schema forgets them before its next use.
    schema: std::sync::atomic::AtomicU64,
}

/// A pooled connection, and whether it came back unfit to serve again.
pub struct Conn<B: Backend> {
    conn: B::Conn,
    unfit: bool,
    session: i64,
    opts: Arc<B::Options>,
    schema: u64,
}

impl<B: Backend> managed::Manager for Manager<B> {
    type Type = Conn<B>;
    type Error = sqlx::Error;

    async fn create(&self) -> Result<Conn<B>, sqlx::Error> {
        let (conn, session) = B::connect(&self.opts).await?;
        Ok(Conn {
            conn,
            unfit: false,
            session,
            opts: self.opts.clone(),
            schema: self.schema.load(std::sync::atomic::Ordering::Acquire),
        })
    }

    /// No round trip: a connection came back fit only if its last statement
    /// finished. An unfit one is dropped (closing it) and another is taken.
    async fn recycle(&self, c: &mut Conn<B>, _: &Metrics) -> RecycleResult<sqlx::Error> {
        if c.unfit {
            Err(RecycleError::message("left mid-statement"))
        } else {
            Ok(())
        }
    }
}

pub type Pool<B> = managed::Pool<Manager<B>>;

/// A pool of at most `max` connections; waiting for one or opening one
/// gives up after `timeout`.
pub fn pool<B: Backend>(
    opts: B::Options,
    max: usize,
    timeout: Duration,
) -> Result<Pool<B>, String> {
    let pool = Pool::builder(Manager::<B> {
        opts: Arc::new(opts),
        schema: Default::default(),
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

/// The schema changed (a catalog refresh): every connection forgets its
/// prepared statements before it serves again.
pub fn renew<B: Backend>(pool: &Pool<B>) {
    pool.manager()
        .schema
        .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
}

/// A connection on loan from the pool.
pub struct Lease<B: Backend> {
    conn: Object<Manager<B>>,
    /// The connection is between statements and may serve another request.
    settled: bool,
    /// A statement was sent and its outcome not yet settled.
    running: bool,
}

impl<B: Backend> Lease<B> {
    /// A connection from `pool`; why there is none, in the shared kinds.
    pub async fn of(pool: &Pool<B>) -> Result<Lease<B>, ConnectorError> {
        match pool.get().await {
            Ok(mut conn) => {
                let schema = pool
                    .manager()
                    .schema
                    .load(std::sync::atomic::Ordering::Acquire);
                if conn.schema != schema {
                    // a connection that cannot forget is not used again
                    if B::forget_statements(&mut conn.conn).await.is_err() {
                        conn.unfit = true;
                        let _ = Object::take(conn);
                        return Box::pin(Self::of(pool)).await;
                    }
                    conn.schema = schema;
                }
                Ok(Lease {
                    conn,
                    settled: true,
                    running: false,
                })
            }
            Err(PoolError::Backend(e)) => Err(connect_error(e, B::refused)),
            // timed out or closed: the message says which
            Err(e) => Err(ConnectorError::new(ErrorKind::Unavailable, e.to_string())),
        }
    }

    /// The connection, for one statement; [`settle`](Self::settle) its outcome.
    pub fn conn(&mut self) -> &mut B::Conn {
        self.settled = false;
        self.running = true;
        &mut self.conn.conn
    }

    /// The outcome of the statement run on [`conn`](Self::conn): the
    /// connection may serve again unless the connection itself failed.
    pub fn settle<T>(&mut self, r: Result<T, sqlx::Error>) -> Result<T, sqlx::Error> {
        self.running = false;
        self.settled = match &r {
            Ok(_) => true,
            Err(e) => {
                !B::broken(e) && matches!(e, sqlx::Error::Database(_) | sqlx::Error::RowNotFound)
            }
        };
        r
    }

    /// Not to serve again (a transaction left open).
    pub fn discard(&mut self) {
        self.settled = false;
    }
}

impl<B: Backend> Drop for Lease<B> {
    fn drop(&mut self) {
        // back to the pool, which drops it on the next checkout if unfit
        self.conn.unfit = !self.settled;
        if self.running {
            cancel::<B>(self.conn.opts.clone(), self.conn.session);
        }
    }
}

/// Asks the server to cancel what session `id` is running. Best effort: a
/// statement that already ended is not affected, and a failure is only logged.
fn cancel<B: Backend>(opts: Arc<B::Options>, id: i64) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    runtime.spawn(async move {
        let engine = B::NAME;
        match tokio::time::timeout(Duration::from_secs(10), B::cancel(&opts, id)).await {
            Ok(Ok(())) => tracing::debug!(engine, id, "cancelled a statement its request left"),
            Ok(Err(e)) => {
                tracing::warn!(
                    engine,
                    id,
                    "could not cancel a statement its request left: {e}"
                );
            }
            Err(_) => tracing::warn!(
                engine,
                id,
                "could not cancel a statement its request left: timed out"
            ),
        }
    });
}

/// A transaction on a leased connection (`BEGIN` was sent). One dropped
/// without [`end`](Self::end) takes its connection out of the pool.
pub struct TxLease<B: Backend> {
    lease: Lease<B>,
    open: bool,
}

impl<B: Backend> TxLease<B> {
    /// Sends `BEGIN` on `lease`'s connection.
    pub async fn begin(mut lease: Lease<B>) -> Result<TxLease<B>, sqlx::Error> {
        let begun = B::simple(lease.conn(), "BEGIN").await;
        lease.settle(begun)?;
        Ok(Self::begun(lease))
    }

    /// A transaction on `lease`, whose connection was sent `BEGIN` already.
    pub fn begun(lease: Lease<B>) -> TxLease<B> {
        TxLease { lease, open: true }
    }

    /// The connection's lease, for the transaction's statements.
    pub fn lease(&mut self) -> &mut Lease<B> {
        &mut self.lease
    }

    /// Ends the transaction with `COMMIT` or `ROLLBACK`.
    pub async fn end(mut self, sql: &'static str) -> Result<(), sqlx::Error> {
        let ended = B::simple(self.lease.conn(), sql).await;
        self.lease.settle(ended)?;
        self.open = false;
        Ok(())
    }
}

impl<B: Backend> Drop for TxLease<B> {
    fn drop(&mut self) {
        if self.open {
            self.lease.discard();
        }
    }
}
