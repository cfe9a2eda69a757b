//! Latency bookkeeping: one histogram type for every scenario, stamps carried inside frames so
//! that a sender and a receiver in different processes can time a delivery, and a plain bucket
//! list to move a histogram between processes.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use hdrhistogram::Histogram;
use serde_json::{json, Value};

/// What a sender writes in front of its wall-clock stamp (nanoseconds since the Unix epoch).
pub const STAMP: &str = "bench-t=";

/// Nanoseconds since the Unix epoch on this machine's clock (shared by every process on it).
pub fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// `bench-t=<now>`: put it in a message text or a broadcast payload.
pub fn stamp() -> String {
    format!("{STAMP}{}", now_nanos())
}

/// The stamp inside `text`, if any.
pub fn find_stamp(text: &str) -> Option<u64> {
    let at = text.find(STAMP)? + STAMP.len();
    let digits: &str = &text[at..];
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse().ok()
}

/// Latencies in microseconds, 1 µs to 10 min, 3 significant digits.
#[derive(Clone)]
pub struct Latency(Histogram<u64>);

impl Default for Latency {
    fn default() -> Self {
        Latency(Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds"))
    }
}

impl Latency {
    /// Records the time from a stamp (nanoseconds since the epoch) to now.
    pub fn record_since(&mut self, stamp_nanos: u64) {
        let micros = now_nanos().saturating_sub(stamp_nanos) / 1_000;
        self.record_micros(micros);
    }

    pub fn record_micros(&mut self, micros: u64) {
        self.0.saturating_record(micros.max(1));
    }

    pub fn count(&self) -> u64 {
        self.0.len()
    }

    /// The value at a quantile (0.0–1.0) in milliseconds; 0 when nothing was recorded.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.0.is_empty() {
            return 0.0;
        }
        self.0.value_at_quantile(q) as f64 / 1_000.0
    }

    pub fn merge(&mut self, other: &Latency) {
        // Both sides share bounds, so adding cannot fail.
        let _ = self.0.add(&other.0);
    }

    /// `[[micros, count], …]` for the non-empty buckets.
    pub fn to_json(&self) -> Value {
        let buckets: Vec<Value> = self
            .0
            .iter_recorded()
            .map(|v| json!([v.value_iterated_to(), v.count_at_value()]))
            .collect();
        Value::Array(buckets)
    }

    pub fn from_json(value: &Value) -> Result<Latency> {
        let mut latency = Latency::default();
        for bucket in value
            .as_array()
            .context("latency buckets must be an array")?
        {
            let micros = bucket[0].as_u64().context("bucket value")?;
            let count = bucket[1].as_u64().context("bucket count")?;
            let _ = latency.0.record_n(micros.max(1), count);
        }
        Ok(latency)
    }

    pub fn reset(&mut self) {
        self.0.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_are_found_inside_json() {
        let text = r#"{"text":"bench-t=1234567 i=3"}"#;
        assert_eq!(find_stamp(text), Some(1_234_567));
        assert_eq!(find_stamp("nothing"), None);
    }

    #[test]
    fn histograms_survive_a_trip_through_json() {
        let mut a = Latency::default();
        for micros in [10, 20, 30, 4_000] {
            a.record_micros(micros);
        }
        let b = Latency::from_json(&a.to_json()).unwrap();
        assert_eq!(b.count(), 4);
        assert!((b.quantile_ms(1.0) - 4.0).abs() < 0.01);
    }
}
