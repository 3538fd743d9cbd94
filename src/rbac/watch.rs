//! Hot reload: the policy folder is watched (inotify and its peers, through
//! `notify`, or polling where the OS has no notifications); a change is
//! applied after a short pause that lets an editor
//! finish writing, so a save takes effect well within a second.

use super::Policy;
use notify::{PollWatcher, RecursiveMode, Watcher};
use std::sync::Arc;
use std::time::Duration;

/// How often the fallback watcher looks, where the OS offers no notifications.
const POLL: Duration = Duration::from_millis(250);

/// Quiet time after the last change before reloading.
const SETTLE: Duration = Duration::from_millis(100);

/// Watches `policy.dir` for as long as the returned task runs.
pub fn spawn(policy: Arc<Policy>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let Some(watcher) = watch(&policy.dir, tx) else {
            return;
        };
        while rx.recv().await.is_some() {
            // Let the writer finish, and fold a burst of events into one reload.
            tokio::time::sleep(SETTLE).await;
            while rx.try_recv().is_ok() {}
            policy.reload().await;
        }
        drop(watcher);
    })
}

/// A watcher on `dir` sending one message per change: the OS's notifications,
/// or polling where they are not available (some container file systems).
fn watch(
    dir: &std::path::Path,
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
            tracing::warn!(dir = %dir.display(), "no file notifications for the policy folder ({e}); polling it");
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
                    tracing::error!(dir = %dir.display(), "cannot watch the policy folder; edits need a restart: {e}");
                    None
                }
            }
        }
    }
}
