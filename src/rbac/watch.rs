//! Hot reload: the policy folder is watched (inotify and its peers, through
//! `notify`); a change is applied after a short pause that lets an editor
//! finish writing, so a save takes effect well within a second.

use super::Policy;
use notify::{RecursiveMode, Watcher};
use std::sync::Arc;
use std::time::Duration;

/// Quiet time after the last change before reloading.
const SETTLE: Duration = Duration::from_millis(100);

/// Watches `policy.dir` for as long as the returned task runs.
pub fn spawn(policy: Arc<Policy>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let watcher = notify::recommended_watcher(move |ev: notify::Result<notify::Event>| {
            if ev.is_ok_and(|e| !e.kind.is_access()) {
                let _ = tx.send(());
            }
        });
        let mut watcher = match watcher {
            Ok(w) => w,
            Err(e) => {
                tracing::error!("cannot watch the policy folder; edits need a restart: {e}");
                return;
            }
        };
        if let Err(e) = watcher.watch(&policy.dir, RecursiveMode::NonRecursive) {
            tracing::warn!(dir = %policy.dir.display(), "cannot watch the policy folder; edits need a restart: {e}");
            return;
        }
        while rx.recv().await.is_some() {
            // Let the writer finish, and fold a burst of events into one reload.
            tokio::time::sleep(SETTLE).await;
            while rx.try_recv().is_ok() {}
            policy.reload().await;
        }
        drop(watcher);
    })
}
