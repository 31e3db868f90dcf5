//! Store connections for the async handlers.
//!
//! The store's clients are blocking (rusqlite, the sync `postgres` client, which panics
//! inside a tokio runtime), so every store call runs on tokio's blocking pool, on a
//! connection taken from this pool. A semaphore bounds how many run at once, so a burst of
//! requests queues here instead of opening a connection each. (r2d2 or deadpool would need an
//! adapter for `Box<dyn Store>` and bring their own threads; this is the 40 lines we need.)

use std::sync::{Arc, Mutex};

use customs_store::Store;
use tokio::sync::Semaphore;

use crate::ServerError;

/// A bounded set of store connections.
#[derive(Clone)]
pub(crate) struct Pool {
    url: Arc<str>,
    idle: Arc<Mutex<Vec<Box<dyn Store>>>>,
    permits: Arc<Semaphore>,
}

impl Pool {
    /// A pool of at most `size` connections to `url`, opened as needed.
    pub(crate) fn new(url: &str, size: usize) -> Self {
        Self {
            url: url.into(),
            idle: Arc::new(Mutex::new(Vec::new())),
            permits: Arc::new(Semaphore::new(size.max(1))),
        }
    }

    /// Run `f` on a connection, on the blocking pool. A connection whose call failed is
    /// dropped rather than reused (it may be in a broken state).
    pub(crate) async fn run<T, F>(&self, f: F) -> Result<T, ServerError>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Store) -> Result<T, ServerError> + Send + 'static,
    {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| ServerError::ShuttingDown)?;
        let pool = self.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let taken = pool.idle.lock().map(|mut v| v.pop()).unwrap_or(None);
            let mut store = match taken {
                Some(s) => s,
                None => customs_store::open(&pool.url)?,
            };
            let result = f(store.as_mut());
            if result.is_ok()
                && let Ok(mut idle) = pool.idle.lock()
            {
                idle.push(store);
            }
            result
        })
        .await
        .map_err(|e| {
            ServerError::Internal(format!("a store call panicked or was cancelled: {e}"))
        })?
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // The last handle may be dropped on the runtime, where the blocking PostgreSQL
        // client must not be dropped (it would start a runtime inside the runtime): hand the
        // connections to a thread of their own.
        if Arc::strong_count(&self.idle) == 1
            && let Ok(mut idle) = self.idle.lock()
        {
            let conns = std::mem::take(&mut *idle);
            if !conns.is_empty() {
                let _ = std::thread::spawn(move || drop(conns)).join();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;

    use super::*;

    /// A store call that blocks (as every call of the blocking clients does) runs off the
    /// runtime: on a runtime with one thread, other tasks keep running meanwhile.
    #[test]
    fn store_calls_never_block_the_runtime() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("store.db").display());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let ticks = Arc::new(AtomicU32::new(0));
        runtime.block_on(async {
            let pool = Pool::new(&url, 2);
            let counter = Arc::clone(&ticks);
            let ticker = tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    counter.fetch_add(1, Ordering::SeqCst);
                }
            });
            let seen = pool
                .run(|store| {
                    store.schema_version()?;
                    std::thread::sleep(Duration::from_millis(300));
                    Ok(())
                })
                .await;
            seen.unwrap();
            ticker.abort();
        });
        // 300 ms of blocking: the ticker ran throughout (60 ticks if the machine were idle).
        assert!(ticks.load(Ordering::SeqCst) >= 10, "{ticks:?}");
    }
}
