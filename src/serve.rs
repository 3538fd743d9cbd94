//! The HTTP server loop: hyper connections for the router, with the guards
//! `axum::serve` does not have. Without them a client could hold a socket
//! open forever by sending half a request, or nothing; 1,100 such sockets
//! under the usual limit of 1,024 file descriptors left the process unable
//! to accept anyone (`Too many open files`).
//!
//! - A connection must send a request's complete headers within
//!   `header_timeout_secs` of opening or of its previous answer (hyper's HTTP/1
//!   header timer, which runs while a keep-alive connection waits too).
//! - A connection with no request in flight and no bytes moving for
//!   `idle_timeout_secs` is closed (HTTP/1 and HTTP/2 alike).
//! - At most `max_connections` are open at once (by default the descriptor
//!   limit less room for database pools and files); beyond that new
//!   connections wait in the listen backlog until one closes, so the process
//!   never runs out of descriptors.
//! - An accept error (out of descriptors, a connection reset before it was
//!   accepted) is logged at most once a second and waited out briefly, not
//!   retried in a busy loop.
//!
//! Shutdown is graceful: on the signal, no new connections are accepted,
//! idle ones close, and requests in flight finish.

use crate::config::ServerConfig;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// Descriptors kept for everything but client connections (database pools,
/// the system store, watched folders, log files) when the cap is derived.
const RESERVED_FDS: u64 = 128;

/// The connection cap `cfg` asks for, or one derived from the process's
/// descriptor limit (raised to its hard limit first, as far as allowed).
pub fn max_connections(cfg: &ServerConfig) -> usize {
    if cfg.max_connections > 0 {
        return cfg.max_connections;
    }
    let limit = rlimit::increase_nofile_limit(u64::MAX)
        .or_else(|_| rlimit::getrlimit(rlimit::Resource::NOFILE).map(|(soft, _)| soft))
        .unwrap_or(1024);
    let usable = limit
        .saturating_sub(RESERVED_FDS.max(limit / 8))
        .clamp(16, 1 << 20);
    usize::try_from(usable).unwrap_or(1 << 20)
}

/// Serves `router` on `listener` until `shutdown` completes, then lets the
/// requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    cfg: ServerConfig,
    shutdown: impl Future<Output = ()>,
) {
    let cap = max_connections(&cfg);
    tracing::info!(max_connections = cap, "accepting connections");
    let permits = Arc::new(Semaphore::new(cap));
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(cfg.header_timeout_secs.max(1)));
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Duration::from_secs(30))
        .keep_alive_timeout(Duration::from_secs(20));
    let builder = Arc::new(builder);
    let idle = Duration::from_secs(cfg.idle_timeout_secs.max(1));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    let mut last_error_log: Option<Instant> = None;
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let accepted = tokio::select! {
            a = listener.accept() => a,
            () = &mut shutdown => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                if last_error_log.is_none_or(|t| t.elapsed() > Duration::from_secs(1)) {
                    tracing::warn!("accepting a connection failed: {e}");
                    last_error_log = Some(Instant::now());
                }
                // out of descriptors: wait for some to close, don't spin
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let activity = Arc::new(Activity::new());
        let io = TokioIo::new(Tracked {
            inner: stream,
            activity: activity.clone(),
        });
        let service = {
            let (router, activity) = (router.clone(), activity.clone());
            tower::service_fn(move |req: axum::http::Request<Incoming>| {
                let busy = Busy::enter(&activity);
                let call = router.clone().oneshot(req.map(axum::body::Body::new));
                async move {
                    let resp = call.await;
                    drop(busy);
                    resp
                }
            })
        };
        let conn = builder
            .serve_connection_with_upgrades(io, TowerToHyperService::new(service))
            .into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let mut conn = std::pin::pin!(conn);
            let mut tick = tokio::time::interval(idle / 4 + Duration::from_millis(1));
            loop {
                tokio::select! {
                    _ = conn.as_mut() => break,
                    _ = tick.tick() => {
                        if activity.idle_for() >= idle {
                            tracing::debug!("closing an idle connection");
                            break;
                        }
                    }
                }
            }
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {},
        () = tokio::time::sleep(Duration::from_secs(30)) => {
            tracing::warn!("requests still running 30 s after the shutdown signal were cut off");
        }
    }
}

/// When a connection last moved bytes, and how many requests it has in flight.
struct Activity {
    started: Instant,
    last_ms: AtomicU64,
    in_flight: AtomicUsize,
}

impl Activity {
    fn new() -> Self {
        Activity {
            started: Instant::now(),
            last_ms: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    /// How long the connection has been idle; zero while a request runs.
    fn idle_for(&self) -> Duration {
        if self.in_flight.load(Ordering::Relaxed) > 0 {
            return Duration::ZERO;
        }
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        self.started.elapsed().saturating_sub(last)
    }
}

/// A request in flight on a connection (until its handler answered; the
/// body that follows moves bytes, which counts as activity).
struct Busy(Arc<Activity>);

impl Busy {
    fn enter(a: &Arc<Activity>) -> Busy {
        a.in_flight.fetch_add(1, Ordering::Relaxed);
        Busy(a.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.0.touch();
    }
}

pin_project_lite::pin_project! {
    /// A socket that records when bytes last moved through it.
    struct Tracked {
        #[pin]
        inner: TcpStream,
        activity: Arc<Activity>,
    }
}

impl AsyncRead for Tracked {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.project();
        let before = buf.filled().len();
        let r = this.inner.poll_read(cx, buf);
        if buf.filled().len() > before {
            this.activity.touch();
        }
        r
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        let r = this.inner.poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.touch();
        }
        r
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        let r = this.inner.poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.touch();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_shutdown(cx)
    }
}
