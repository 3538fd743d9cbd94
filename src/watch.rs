//! Hot reload of a folder (the policies, the hook scripts): it is watched
//! (inotify and its peers, through `notify`, or polling where the OS has no
//! notifications), and a change is applied after a short pause that lets an
//! editor finish writing, so a save takes effect well within a second.

use notify::{PollWatcher, RecursiveMode, Watcher};
use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

/// How often the fallback watcher looks, where the OS offers no notifications.
const POLL: Duration = Duration::from_millis(250);

/// Quiet time after the last change before reloading.
const SETTLE: Duration = Duration::from_millis(100);

/// Watches `dir` (the `what` folder, for log lines) for as long as the returned
/// task runs, calling `reload` after each burst of changes.
pub fn spawn<F, Fut>(dir: PathBuf, what: &'static str, reload: F) -> tokio::task::JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        if !dir.is_dir() {
            tracing::warn!(dir = %dir.display(), "the {what} folder does not exist; create it and restart to use it");
            return;
        }
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let Some(watcher) = watch(&dir, what, tx) else {
            return;
        };
        while rx.recv().await.is_some() {
            // Let the writer finish, and fold a burst of events into one reload.
            tokio::time::sleep(SETTLE).await;
            while rx.try_recv().is_ok() {}
            reload().await;
        }
        drop(watcher);
    })
}

/// A watcher on `dir` sending one message per change: the OS's notifications,
/// or polling where they are not available (some container file systems).
fn watch(
    dir: &std::path::Path,
    what: &str,
    tx: tokio::sync::mpsc::UnboundedSender<()>,
) -> Option<Box<dyn Watcher + Send>> {
    let handler = move |ev: notify::Result<notify::Event>| {
        if ev.is_ok_and(|e| !e.kind.is_access()) {
            let _ = tx.send(());
        }
    };
    let native = notify::recommended_watcher(handler.clone()).and_then(|mut w| {
        w.watch(dir, RecursiveMode::NonRecursive)?;
        Ok(Box::new(w) as Box<dyn Watcher + Send>)
    });
    match native {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::warn!(dir = %dir.display(), "no file notifications for the {what} folder ({e}); polling it");
            let config = notify::Config::default()
                .with_poll_interval(POLL)
                .with_compare_contents(true);
            let polled = PollWatcher::new(handler, config).and_then(|mut w| {
                w.watch(dir, RecursiveMode::NonRecursive)?;
                Ok(Box::new(w) as Box<dyn Watcher + Send>)
            });
            match polled {
                Ok(w) => Some(w),
                Err(e) => {
                    tracing::error!(dir = %dir.display(), "cannot watch the {what} folder; edits need a restart: {e}");
                    None
                }
            }
        }
    }
}
