//! Open-loop sending: start request `i` at `start + i / rate` whatever the earlier ones do, so a
//! slow server shows up as latency rather than as a slower sender.

use std::future::Future;
use std::sync::Arc;

use anyhow::Result;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::{sleep_until, Duration, Instant};

/// How many requests may be outstanding at once (bounds memory if the server stalls).
const IN_FLIGHT: usize = 512;

/// What a paced run did.
pub struct Paced {
    pub sent: u64,
    pub failed: u64,
    pub first_error: Option<String>,
}

/// Calls `send(i)` for i in 0..rate*secs, evenly spaced.
pub async fn run<F, Fut>(rate: u64, secs: u64, send: F) -> Paced
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    let total = rate * secs;
    let start = Instant::now();
    let gap = Duration::from_secs_f64(1.0 / rate.max(1) as f64);
    let permits = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut tasks = JoinSet::new();
    for i in 0..total {
        sleep_until(start + gap.mul_f64(i as f64)).await;
        let Ok(permit) = permits.clone().acquire_owned().await else {
            break;
        };
        let request = send(i);
        tasks.spawn(async move {
            let result = request.await;
            drop(permit);
            result
        });
    }
    let mut paced = Paced {
        sent: 0,
        failed: 0,
        first_error: None,
    };
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(())) => paced.sent += 1,
            Ok(Err(e)) => {
                paced.failed += 1;
                paced.first_error.get_or_insert_with(|| format!("{e:#}"));
            }
            Err(e) => {
                paced.failed += 1;
                paced.first_error.get_or_insert_with(|| e.to_string());
            }
        }
    }
    paced
}
