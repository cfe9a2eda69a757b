//! Retry timing: exponential, capped, with jitter so that many deliveries failing together (a
//! provider outage) do not all come back at the same instant.

use std::time::Duration;

use rand::Rng;

/// The wait before attempt `attempt + 1`, given `attempt` failed ones (1-based): a random point
/// between half and all of `base * 2^(attempt-1)`, capped at `max`.
pub fn backoff(attempt: u32, base: Duration, max: Duration) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
    let ceiling = exp.min(max);
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
}
