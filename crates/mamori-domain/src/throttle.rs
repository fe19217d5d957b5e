//! Login throttling: a sliding window of recent failures per key (an account or a source
//! address). When a key has `max_failures` failures inside `window`, it is locked until the
//! oldest of them leaves the window. Attempts made while locked are refused *without being
//! counted*, so an attacker cannot extend a lockout: it ends at most `window` after it began.

use time::{Duration, OffsetDateTime};

/// Limits for one kind of key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// How far back failures count.
    pub window: Duration,
    /// Failures allowed inside the window.
    pub max_failures: usize,
}

impl ThrottlePolicy {
    /// Per account: 10 failures per 15 minutes, so at most 40 an hour (the issue allows ≤ 100).
    pub const ACCOUNT: ThrottlePolicy = ThrottlePolicy {
        window: Duration::minutes(15),
        max_failures: 10,
    };
    /// Per source address: 30 failures per 15 minutes (several people may share a NAT).
    pub const SOURCE: ThrottlePolicy = ThrottlePolicy {
        window: Duration::minutes(15),
        max_failures: 30,
    };

    /// `None` when an attempt may proceed, or the time the lock ends. `failures` are the times
    /// of the recorded failures inside the window (any order).
    pub fn locked_until(
        &self,
        failures: &[OffsetDateTime],
        now: OffsetDateTime,
    ) -> Option<OffsetDateTime> {
        let mut recent: Vec<OffsetDateTime> = failures
            .iter()
            .copied()
            .filter(|t| *t > now - self.window && *t <= now)
            .collect();
        if recent.len() < self.max_failures {
            return None;
        }
        recent.sort();
        // The lock lifts when enough failures have aged out to drop below the limit.
        let idx = recent.len() - self.max_failures;
        Some(recent[idx] + self.window)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(min: i64) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + Duration::minutes(1_000_000) + Duration::seconds(min)
    }

    #[test]
    fn locks_at_the_limit_and_lifts_after_the_window() {
        let p = ThrottlePolicy {
            window: Duration::seconds(100),
            max_failures: 3,
        };
        assert_eq!(p.locked_until(&[t(0), t(1)], t(2)), None);
        assert_eq!(p.locked_until(&[t(0), t(1), t(2)], t(3)), Some(t(100)));
        assert_eq!(p.locked_until(&[t(0), t(1), t(2)], t(101)), None);
    }

    proptest! {
        /// However failures are spread, no lock lasts longer than the window from now.
        #[test]
        fn lock_never_exceeds_window(times in proptest::collection::vec(0i64..1000, 0..50)) {
            let p = ThrottlePolicy { window: Duration::seconds(300), max_failures: 5 };
            let fails: Vec<_> = times.iter().map(|s| t(*s)).collect();
            let now = t(1000);
            if let Some(until) = p.locked_until(&fails, now) {
                prop_assert!(until <= now + p.window);
                prop_assert!(until > now);
            }
        }

        /// Counted failures per window never exceed the limit when locked attempts are not
        /// recorded (simulating an attacker trying every second).
        #[test]
        fn attacker_gets_at_most_limit_per_window(start in 0i64..100) {
            let p = ThrottlePolicy { window: Duration::seconds(900), max_failures: 10 };
            let mut recorded = Vec::new();
            for s in start..start + 3600 {
                let now = t(s);
                if p.locked_until(&recorded, now).is_none() {
                    recorded.push(now);
                }
            }
            prop_assert!(recorded.len() <= 10 * 4 + 10);
        }
    }
}
