//! A bound on expensive work that many clients can ask for at once
//! (password hashes, charts): at most `slots` callers hold a slot, a few
//! more wait for one a short while, and the rest are turned away at once
//! ([`Full`]; the front ends answer 503 with `Retry-After`). What the work
//! costs (memory, CPU) is then bounded whatever the number of clients, and
//! nothing queues without bound.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Every slot is taken and the queue is full, or the wait ran out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("every slot is taken")]
pub struct Full;

/// Slots, and a queue bounded in length and in time.
#[derive(Debug)]
pub struct Gate {
    slots: Arc<Semaphore>,
    waiting: AtomicUsize,
    queue: usize,
    max_wait: Duration,
}

impl Gate {
    /// `slots` at once (at least one), `queue` callers waiting at most
    /// `max_wait` each.
    pub fn new(slots: usize, queue: usize, max_wait: Duration) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(slots.max(1))),
            waiting: AtomicUsize::new(0),
            queue,
            max_wait,
        }
    }

    /// A slot: at once when one is free, else after a wait of at most
    /// `max_wait` when the queue has room. The permit is owned, so it can
    /// move into a blocking task and be held until the work is done even
    /// when the request that asked is dropped halfway.
    ///
    /// # Errors
    /// [`Full`].
    pub async fn enter(&self) -> Result<OwnedSemaphorePermit, Full> {
        if let Ok(permit) = self.slots.clone().try_acquire_owned() {
            return Ok(permit);
        }
        let queued = self.waiting.fetch_add(1, Ordering::AcqRel);
        let _leave = Leave(&self.waiting);
        if queued >= self.queue {
            return Err(Full);
        }
        match tokio::time::timeout(self.max_wait, self.slots.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            // Timed out, or the semaphore was closed (it never is).
            _ => Err(Full),
        }
    }

    /// Slots free now.
    pub fn free(&self) -> usize {
        self.slots.available_permits()
    }

    /// Callers waiting now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Acquire)
    }
}

/// Takes a caller off the queue count when its wait ends, however it ends.
struct Leave<'a>(&'a AtomicUsize);

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_waiting_caller_gets_the_slot_freed_and_one_more_is_turned_away_at_once() {
        // Arrange: one slot, taken; one place in the queue.
        let gate = Arc::new(Gate::new(1, 1, Duration::from_secs(30)));
        let held = gate.enter().await.expect("free");
        let waiter = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.enter().await.map(drop) })
        };
        while gate.waiting() == 0 {
            tokio::task::yield_now().await;
        }

        // Act
        let started = std::time::Instant::now();
        let third = gate.enter().await;
        drop(held);

        // Assert
        assert_eq!(third.map(drop), Err(Full));
        assert!(started.elapsed() < Duration::from_secs(5), "at once");
        assert_eq!(
            waiter.await.expect("joins"),
            Ok(()),
            "the queued caller got the slot"
        );
        assert_eq!(gate.free(), 1, "the slot is back");
        assert_eq!(gate.waiting(), 0, "nobody queued");
    }

    #[tokio::test]
    async fn a_caller_waits_at_most_max_wait() {
        let gate = Gate::new(1, 4, Duration::from_millis(50));
        let _taken = gate.enter().await.expect("free");

        assert_eq!(gate.enter().await.map(drop), Err(Full));
        assert_eq!(gate.waiting(), 0);
    }
}
