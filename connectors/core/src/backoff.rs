//! Retry timing shared by every retrying loop of the hub (outbound deliveries, mailbox
//! reconnects): exponential, capped, with jitter so that many retries failing together (a
//! provider outage, a mail server restart) do not all come back at the same instant.
//!
//! A plain function of the attempt number rather than a stateful policy object (`backon`,
//! `backoff`): the dispatcher keeps the attempt count in the outbox row and computes each wait
//! from it after a restart, on whichever node claims the row.

use std::time::Duration;

use rand::Rng;

/// The wait after `attempt` failed attempts (1-based): a random point between half and all of
/// `base * 2^(attempt-1)`, capped at `max` ("equal jitter": never less than half the step, so
/// the schedule still grows, and never two retries at the same instant).
pub fn backoff(attempt: u32, base: Duration, max: Duration) -> Duration {
    let step = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
    let ceiling = step.min(max);
    let half = ceiling / 2;
    half + half.mul_f64(rand::thread_rng().gen_range(0.0..=1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_exponentially_within_jitter_and_stop_at_the_cap() {
        let base = Duration::from_millis(100);
        let max = Duration::from_secs(5);
        for attempt in 1..=12 {
            let ceiling = (base * 2u32.pow(attempt - 1)).min(max);
            for _ in 0..50 {
                let wait = backoff(attempt, base, max);
                assert!(
                    wait >= ceiling / 2 && wait <= ceiling,
                    "{attempt}: {wait:?}"
                );
            }
        }
    }

    #[test]
    fn jitter_spreads_retries_apart() {
        let waits: std::collections::HashSet<_> = (0..20)
            .map(|_| backoff(4, Duration::from_secs(1), Duration::from_secs(60)))
            .collect();
        assert!(waits.len() > 10);
    }

    #[test]
    fn a_huge_attempt_count_stays_at_the_cap() {
        let wait = backoff(u32::MAX, Duration::from_secs(1), Duration::from_secs(60));
        assert!(wait <= Duration::from_secs(60) && wait >= Duration::from_secs(30));
    }
}
