//! Routing decisions per second of the pure rules: 1,000 online agents and 100,000 waiting
//! conversations across 10 inboxes under balanced routing with skills and VIP priority. Prints one
//! JSON line for the benchmark harness.
//!
//!     cargo run --release --example routing_throughput

use std::collections::BTreeSet;
use std::time::Instant;

use switchboard::routing::{Agent, Conversation, Decision, Mode, RoutingPolicy, Snapshot};

fn main() {
    let agents = 1_000;
    let waiting = 100_000;
    let mut snapshot = Snapshot {
        now: 10_000_000,
        ..Default::default()
    };
    for inbox in 0..10 {
        snapshot.policies.insert(
            inbox,
            RoutingPolicy {
                mode: Mode::Balanced,
                vip_label: Some("vip".into()),
                skills: if inbox % 2 == 0 {
                    vec!["en".into()]
                } else {
                    vec![]
                },
                ..Default::default()
            },
        );
    }
    for id in 0..agents {
        snapshot.agents.insert(
            id,
            Agent {
                id,
                online: true,
                capacity: 100,
                inboxes: (0..10).filter(|i| (id + i) % 3 != 0).collect(),
                skills: BTreeSet::from(["en".to_string()]),
                ..Default::default()
            },
        );
    }
    for id in 0..waiting {
        snapshot.conversations.insert(
            id,
            Conversation {
                id,
                inbox_id: id % 10,
                contact_id: id,
                active: true,
                waiting_since: Some(id),
                created_at: id,
                labels: if id % 50 == 0 {
                    vec!["vip".into()]
                } else {
                    vec![]
                },
                ..Default::default()
            },
        );
    }
    let started = Instant::now();
    let decisions = snapshot.route();
    let seconds = started.elapsed().as_secs_f64();
    let assigned = decisions
        .iter()
        .filter(|d| matches!(d, Decision::Assign { .. }))
        .count();
    println!(
        "{{\"scenario\":\"routing\",\"agents\":{agents},\"waiting\":{waiting},\"decisions\":{assigned},\"seconds\":{seconds:.3},\"decisions_per_sec\":{:.0}}}",
        assigned as f64 / seconds
    );
}
