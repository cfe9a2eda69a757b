//! A fixed budget of hits per key and window for the public widget endpoints (login attempts
//! have their own limiter in `login_limit.rs`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A fixed budget of hits per key and window, for public endpoints (widget sessions and
/// messages): `hit` counts and says whether the caller is still within budget.
pub struct Throttle {
    limit: u32,
    window: Duration,
    hits: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Throttle {
    pub fn new(limit: u32, window: Duration) -> Self {
        Throttle {
            limit,
            window,
            hits: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a hit for every key; `Err(wait)` when any of them is over budget.
    pub fn hit(&self, keys: &[String]) -> Result<(), Duration> {
        let now = Instant::now();
        let mut map = self.hits.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, (_, since)| now.duration_since(*since) < self.window);
        }
        let mut wait = None;
        for key in keys {
            let entry = map.entry(key.clone()).or_insert((0, now));
            if now.duration_since(entry.1) >= self.window {
                *entry = (0, now);
            }
            entry.0 += 1;
            if entry.0 > self.limit {
                wait = Some(self.window.saturating_sub(now.duration_since(entry.1)));
            }
        }
        wait.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_throttle_allows_its_budget_per_key_and_window() {
        let throttle = Throttle::new(2, Duration::from_millis(200));
        let a = vec!["visitor:a".to_string()];
        assert!(throttle.hit(&a).is_ok());
        assert!(throttle.hit(&a).is_ok());
        assert!(throttle.hit(&a).is_err());
        assert!(throttle.hit(&["visitor:b".to_string()]).is_ok());
        std::thread::sleep(Duration::from_millis(250));
        assert!(throttle.hit(&a).is_ok());
    }
}
