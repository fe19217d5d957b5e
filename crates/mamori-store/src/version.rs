//! The data version read by every request, with concurrent reads shared.
//!
//! Every request asks for the data version (the newest audit sequence number) so that cached
//! answers are exact. Under load many requests ask at once; each needs a read that *began
//! after it asked* — a read already under way may have missed a change committed just before
//! the request arrived — but one such read serves every request waiting for it. Reads are made
//! one at a time: a request that arrives while a read is under way waits for it to end, then
//! either finds that a later read already answered for it or makes that read itself.
//! The promise holds exactly: a change committed (on any server) before a request arrives is
//! seen by that request.

use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::Mutex;

/// Shares data-version reads between concurrent callers (see the module documentation).
#[derive(Debug, Default)]
pub(crate) struct SharedVersionReads {
    /// How many reads have begun (each read's number is its place in this count).
    begun: AtomicU64,
    /// The last read to finish: its number and the version it read. Held while reading.
    last: Mutex<(u64, i64)>,
}

impl SharedVersionReads {
    /// The data version as of some moment after this call began: `read` is called only when no
    /// read that began after this call has finished yet.
    pub(crate) async fn current<E, F, Fut>(&self, read: F) -> Result<i64, E>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<i64, E>>,
    {
        // Reads numbered above `arrived` began after this call did.
        let arrived = self.begun.load(Ordering::SeqCst);
        let mut last = self.last.lock().await;
        if last.0 > arrived {
            return Ok(last.1);
        }
        let number = self.begun.fetch_add(1, Ordering::SeqCst) + 1;
        let version = read().await?;
        *last = (number, version);
        Ok(version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicI64;
    use std::sync::Arc;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_caller_never_gets_a_read_that_began_before_it() {
        let reads = Arc::new(SharedVersionReads::default());
        let version = Arc::new(AtomicI64::new(1));
        let (began_tx, began_rx) = tokio::sync::oneshot::channel::<()>();
        let (release_tx, release_rx) = tokio::sync::oneshot::channel::<()>();
        // A read under way, which saw version 1 when it began.
        let early = {
            let (reads, version) = (reads.clone(), version.clone());
            tokio::spawn(async move {
                reads
                    .current(|| async move {
                        let seen = version.load(Ordering::SeqCst);
                        let _ = began_tx.send(());
                        let _ = release_rx.await;
                        Ok::<_, ()>(seen)
                    })
                    .await
            })
        };
        began_rx.await.unwrap();
        // A change commits, then a request arrives while the early read is still under way.
        version.store(2, Ordering::SeqCst);
        let late = {
            let (reads, version) = (reads.clone(), version.clone());
            tokio::spawn(async move {
                reads
                    .current(|| async move { Ok::<_, ()>(version.load(Ordering::SeqCst)) })
                    .await
            })
        };
        // Let it arrive and wait for the early read.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        release_tx.send(()).unwrap();
        assert_eq!(early.await.unwrap(), Ok(1));
        assert_eq!(late.await.unwrap(), Ok(2), "the late caller saw the change");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_callers_share_reads() {
        let reads = Arc::new(SharedVersionReads::default());
        let calls = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for _ in 0..64 {
            let (reads, calls) = (reads.clone(), calls.clone());
            tasks.push(tokio::spawn(async move {
                reads
                    .current(|| async {
                        calls.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                        Ok::<_, ()>(7)
                    })
                    .await
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), Ok(7));
        }
        let made = calls.load(Ordering::SeqCst);
        assert!(made < 16, "64 callers at once made {made} reads");
    }

    #[tokio::test]
    async fn a_failed_read_is_not_remembered() {
        let reads = SharedVersionReads::default();
        assert_eq!(
            reads.current(|| async { Err::<i64, _>("down") }).await,
            Err("down")
        );
        assert_eq!(reads.current(|| async { Ok::<_, &str>(3) }).await, Ok(3));
    }
}
