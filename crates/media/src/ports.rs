//! RTP port allocation: even ports from a configured range, leased and freed on drop.
//!
//! Each lease is an even RTP port; the odd port above it is reserved for RTCP by convention but
//! never bound (hotline accepts RTCP on the RTP port and ignores it). Allocation walks the range
//! round-robin so a port just released is not handed out again at once, which keeps late packets
//! of a finished call away from the next one.

use std::collections::BTreeSet;
use std::ops::RangeInclusive;
use std::sync::{Arc, Mutex, MutexGuard};
use thiserror::Error;

/// Every even port of the range is leased.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("all {capacity} RTP ports of the configured range are in use")]
pub struct PortsExhausted {
    /// How many ports the range holds.
    pub capacity: usize,
}

#[derive(Debug)]
struct Pool {
    first: u16,
    last: u16,
    next: u16,
    used: BTreeSet<u16>,
}

impl Pool {
    fn capacity(&self) -> usize {
        if self.first > self.last {
            0
        } else {
            (usize::from(self.last - self.first)) / 2 + 1
        }
    }
}

/// Thread-safe allocator of even RTP ports; cheap to clone (shares one pool).
#[derive(Debug, Clone)]
pub struct RtpPortAllocator {
    pool: Arc<Mutex<Pool>>,
}

/// One leased even RTP port; the port returns to the pool when the lease is dropped.
#[derive(Debug)]
pub struct PortLease {
    port: u16,
    pool: Arc<Mutex<Pool>>,
}

fn lock(pool: &Mutex<Pool>) -> MutexGuard<'_, Pool> {
    // The pool holds plain data and no code panics while holding the lock, so a poisoned lock
    // still holds consistent data.
    pool.lock().unwrap_or_else(|e| e.into_inner())
}

impl RtpPortAllocator {
    /// Creates an allocator for the even ports of `range` (an odd start is rounded up; port 0 is
    /// never handed out).
    pub fn new(range: RangeInclusive<u16>) -> Self {
        let mut first = (*range.start()).max(2);
        if first % 2 == 1 {
            first = first.saturating_add(1);
        }
        let mut last = *range.end();
        if last % 2 == 1 {
            last -= 1;
        }
        RtpPortAllocator {
            pool: Arc::new(Mutex::new(Pool {
                first,
                last,
                next: first,
                used: BTreeSet::new(),
            })),
        }
    }

    /// Leases the next free even port.
    pub fn allocate(&self) -> Result<PortLease, PortsExhausted> {
        let mut pool = lock(&self.pool);
        let capacity = pool.capacity();
        for _ in 0..capacity {
            let candidate = pool.next;
            pool.next = if candidate >= pool.last {
                pool.first
            } else {
                candidate + 2
            };
            if pool.used.insert(candidate) {
                return Ok(PortLease {
                    port: candidate,
                    pool: Arc::clone(&self.pool),
                });
            }
        }
        Err(PortsExhausted { capacity })
    }

    /// Number of ports currently leased (for metrics).
    pub fn in_use(&self) -> usize {
        lock(&self.pool).used.len()
    }

    /// Number of even ports the range holds.
    pub fn capacity(&self) -> usize {
        lock(&self.pool).capacity()
    }
}

impl PortLease {
    /// The leased (even) RTP port.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for PortLease {
    fn drop(&mut self) {
        lock(&self.pool).used.remove(&self.port);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hands_out_even_ports_until_exhausted() {
        let ports = RtpPortAllocator::new(10001..=10007);
        assert_eq!(ports.capacity(), 3);
        let a = ports.allocate().expect("free port");
        let b = ports.allocate().expect("free port");
        let c = ports.allocate().expect("free port");
        assert_eq!([a.port(), b.port(), c.port()], [10002, 10004, 10006]);
        assert_eq!(
            ports.allocate().expect_err("range exhausted"),
            PortsExhausted { capacity: 3 }
        );
        assert_eq!(ports.in_use(), 3);
        drop(b);
        assert_eq!(ports.in_use(), 2);
        assert_eq!(ports.allocate().expect("freed port").port(), 10004);
    }

    #[test]
    fn released_ports_are_not_reused_at_once() {
        let ports = RtpPortAllocator::new(20000..=20010);
        let first = ports.allocate().expect("free port").port();
        let second = ports.allocate().expect("free port");
        assert_ne!(first, second.port());
        assert_eq!(ports.in_use(), 1);
    }

    #[test]
    fn is_shared_across_threads() {
        let ports = RtpPortAllocator::new(30000..=30999);
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let ports = ports.clone();
                std::thread::spawn(move || {
                    (0..50)
                        .map(|_| ports.allocate().expect("free port"))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let leases: Vec<PortLease> = handles
            .into_iter()
            .flat_map(|h| h.join().expect("thread ran"))
            .collect();
        let distinct: BTreeSet<u16> = leases.iter().map(PortLease::port).collect();
        assert_eq!(distinct.len(), 200);
        assert_eq!(ports.in_use(), 200);
        drop(leases);
        assert_eq!(ports.in_use(), 0);
    }
}
