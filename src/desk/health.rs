//! An inbox's health: what is failing in its work now (its mailbox cannot be read, its channel
//! refuses to send), recorded when it starts or stops failing and announced to the consoles of
//! the inbox's members, so a broken inbox shows in the console and not only in the server log.

use std::time::{Duration, Instant};

use super::Desk;
use crate::domain::{now_millis, Id, InboxPart};
use crate::store::StoreError;

/// The longest problem text kept: servers can answer with pages.
const PROBLEM_CHARS: usize = 500;

/// How long a recorded state is trusted without asking the store again: in cluster mode another
/// node may have recorded the opposite since.
const TRUSTED_FOR: Duration = Duration::from_secs(60);

/// A part's health as last recorded here (None: working), and when.
pub(super) type Recorded = (Option<String>, Instant);

impl Desk {
    /// Records how an attempt of the inbox's `part` went (`Err(problem)` in the server's or
    /// provider's words). Repeats of what was last recorded here (within [`TRUSTED_FOR`]) are
    /// not written again, so the hot path of a healthy inbox costs a lock and a map lookup.
    #[tracing::instrument(skip_all, fields(workspace = workspace_id, inbox = inbox_id, part = part.as_str()))]
    pub async fn inbox_health(
        &self,
        workspace_id: Id,
        inbox_id: Id,
        part: InboxPart,
        outcome: Result<(), String>,
    ) -> Result<(), StoreError> {
        let problem = outcome.err().map(|p| cap(&p));
        {
            let known = self.inner.health.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((recorded, at)) = known.get(&(inbox_id, part)) {
                if *recorded == problem && at.elapsed() < TRUSTED_FOR {
                    return Ok(());
                }
            }
        }
        let event = self
            .store()
            .record_inbox_health(workspace_id, inbox_id, part, problem.clone(), now_millis())
            .await?;
        self.inner
            .health
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((inbox_id, part), (problem, Instant::now()));
        if let Some(event) = event {
            self.publish(&[event]);
        }
        Ok(())
    }
}

fn cap(problem: &str) -> String {
    let problem = problem.trim();
    match problem.char_indices().nth(PROBLEM_CHARS) {
        Some((end, _)) => format!("{}…", &problem[..end]),
        None => problem.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::cap;

    #[test]
    fn long_problems_are_cut_on_a_character_boundary() {
        let long = "é".repeat(600);
        let kept = cap(&long);
        assert_eq!(kept.chars().count(), 501);
        assert!(kept.ends_with('…'));
        assert_eq!(cap("  refused \n"), "refused");
    }
}
