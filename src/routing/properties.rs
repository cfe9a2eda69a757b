//! Property tests of the routing rules over random sequences of arrivals, agents coming and
//! going, replies, resolutions, capacity changes and time passing. After every step: no agent
//! over capacity, no double assignment, no assignment to an offline agent, no waiting
//! conversation while someone eligible has room, and fairness within its bound.

use std::collections::{BTreeSet, HashMap};

use proptest::prelude::*;

use super::decide::{Agent, Conversation, Decision, Snapshot};
use super::policy::{Mode, RoutingPolicy};

#[derive(Clone, Debug)]
enum Op {
    Arrive {
        inbox: usize,
        contact: i64,
        vip: bool,
    },
    Online(i64),
    Offline(i64),
    Reply(usize),
    Resolve(usize),
    Capacity(i64, u32),
    Tick(i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..3usize, 0..6i64, any::<bool>()).prop_map(|(inbox, contact, vip)| Op::Arrive { inbox, contact, vip }),
        2 => (1..=4i64).prop_map(Op::Online),
        1 => (1..=4i64).prop_map(Op::Offline),
        2 => (0..20usize).prop_map(Op::Reply),
        2 => (0..20usize).prop_map(Op::Resolve),
        1 => (1..=4i64, 0..4u32).prop_map(|(a, c)| Op::Capacity(a, c)),
        1 => (1..200i64).prop_map(Op::Tick),
    ]
}

const INBOXES: [i64; 3] = [10, 11, 12];

fn world(capacities: [u32; 4]) -> Snapshot {
    let mut s = Snapshot {
        now: 1_000_000,
        ..Default::default()
    };
    s.policies.insert(
        10,
        RoutingPolicy {
            mode: Mode::Balanced,
            sticky: true,
            ..Default::default()
        },
    );
    s.policies.insert(
        11,
        RoutingPolicy {
            mode: Mode::RoundRobin,
            fair_limit: Some(3),
            fair_window_secs: Some(60),
            first_reply_deadline_secs: Some(120),
            ..Default::default()
        },
    );
    s.policies.insert(
        12,
        RoutingPolicy {
            mode: Mode::Balanced,
            skills: vec!["fa".into()],
            vip_label: Some("vip".into()),
            ..Default::default()
        },
    );
    let inboxes: [&[i64]; 4] = [&[10, 11, 12], &[10, 11], &[11, 12], &[10]];
    for (i, capacity) in capacities.into_iter().enumerate() {
        let id = i as i64 + 1;
        s.agents.insert(
            id,
            Agent {
                id,
                online: false,
                capacity,
                inboxes: inboxes[i].iter().copied().collect(),
                skills: if id == 1 || id == 3 {
                    BTreeSet::from(["fa".to_string()])
                } else {
                    BTreeSet::new()
                },
                ..Default::default()
            },
        );
    }
    s
}

fn apply(s: &mut Snapshot, op: &Op, next_id: &mut i64) {
    let active: Vec<i64> = s
        .conversations
        .values()
        .filter(|c| c.active)
        .map(|c| c.id)
        .collect();
    match *op {
        Op::Arrive {
            inbox,
            contact,
            vip,
        } => {
            *next_id += 1;
            s.conversations.insert(
                *next_id,
                Conversation {
                    id: *next_id,
                    inbox_id: INBOXES[inbox],
                    contact_id: contact,
                    active: true,
                    waiting_since: Some(s.now),
                    created_at: s.now,
                    labels: if vip { vec!["vip".into()] } else { vec![] },
                    ..Default::default()
                },
            );
        }
        Op::Online(a) => s.agents.get_mut(&a).unwrap().online = true,
        Op::Offline(a) => s.agents.get_mut(&a).unwrap().online = false,
        Op::Reply(i) => {
            if let Some(id) = active.get(i % active.len().max(1)) {
                let now = s.now;
                let c = s.conversations.get_mut(id).unwrap();
                if c.assignee.is_some() {
                    c.first_reply_at.get_or_insert(now);
                }
            }
        }
        Op::Resolve(i) => {
            if let Some(id) = active.get(i % active.len().max(1)) {
                let c = s.conversations.get_mut(id).unwrap();
                c.active = false;
                if let Some(agent) = c.assignee {
                    let a = s.agents.get_mut(&agent).unwrap();
                    a.open = a.open.saturating_sub(1);
                }
            }
        }
        Op::Capacity(a, c) => s.agents.get_mut(&a).unwrap().capacity = c,
        Op::Tick(secs) => s.now += secs * 1000,
    }
}

/// Replays the decisions one by one on the state before routing, checking each was allowed.
fn check_decisions(before: &Snapshot, decisions: &[Decision]) -> Result<(), TestCaseError> {
    let mut sim = before.clone();
    let mut assigned_this_pass = HashMap::new();
    for decision in decisions {
        match decision {
            Decision::Unassign {
                conversation,
                agent,
                ..
            } => {
                let c = sim.conversations.get_mut(conversation).unwrap();
                prop_assert_eq!(c.assignee, Some(*agent));
                c.assignee = None;
                let a = sim.agents.get_mut(agent).unwrap();
                a.open = a.open.saturating_sub(1);
            }
            Decision::Assign {
                conversation,
                agent,
            } => {
                let c = sim.conversations[conversation].clone();
                prop_assert!(c.active, "assigned a closed conversation");
                prop_assert!(
                    c.assignee.is_none(),
                    "double assignment of {}",
                    conversation
                );
                let a = sim.agents[agent].clone();
                prop_assert!(a.online, "assigned to offline agent {}", agent);
                prop_assert!(a.open < a.capacity, "agent {} over capacity", agent);
                let candidates = sim.candidates(&c);
                prop_assert!(
                    candidates.contains(agent),
                    "agent {} was not eligible",
                    agent
                );
                let policy = sim.policies[&c.inbox_id].clone();
                let sticky =
                    policy.sticky && sim.last_agent_of_contact.get(&c.contact_id) == Some(agent);
                if policy.mode == Mode::Balanced && !sticky {
                    let least = candidates
                        .iter()
                        .map(|id| sim.agents[id].open)
                        .min()
                        .unwrap();
                    prop_assert_eq!(a.open, least, "balanced routing must pick the least loaded");
                }
                if let (Some(limit), Some(window)) = (policy.fair_limit, policy.fair_window_secs) {
                    let since = sim.now - window as i64 * 1000;
                    let recent = a.recent.iter().filter(|t| **t > since).count() as u32;
                    prop_assert!(recent < limit, "agent {} past the fairness limit", agent);
                }
                *assigned_this_pass.entry(*conversation).or_insert(0) += 1;
                let cm = sim.conversations.get_mut(conversation).unwrap();
                cm.assignee = Some(*agent);
                let am = sim.agents.get_mut(agent).unwrap();
                am.open += 1;
                am.recent.push_back(sim.now);
                sim.last_agent_of_contact.insert(c.contact_id, *agent);
                sim.round_robin.insert(c.inbox_id, *agent);
            }
        }
    }
    prop_assert!(assigned_this_pass.values().all(|n| *n == 1));
    Ok(())
}

fn check_state(s: &Snapshot) -> Result<(), TestCaseError> {
    for c in s.conversations.values().filter(|c| c.active) {
        if let Some(agent) = c.assignee {
            prop_assert!(
                s.agents[&agent].online,
                "conversation {} left with offline agent",
                c.id
            );
        }
    }
    for a in s.agents.values() {
        let open = s
            .conversations
            .values()
            .filter(|c| c.active && c.assignee == Some(a.id))
            .count() as u32;
        prop_assert_eq!(open, a.open, "agent {}'s load is counted right", a.id);
    }
    for id in s.backlog() {
        let c = &s.conversations[&id];
        prop_assert!(
            s.candidates(c).is_empty(),
            "conversation {} waits while someone eligible has room",
            id
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]

    #[test]
    fn routing_keeps_its_promises(capacities in prop::array::uniform4(0..4u32), ops in prop::collection::vec(op(), 1..80)) {
        let mut s = world(capacities);
        let mut next_id = 0;
        for op in &ops {
            apply(&mut s, op, &mut next_id);
            let before = s.clone();
            let decisions = s.route();
            check_decisions(&before, &decisions)?;
            check_state(&s)?;
        }
    }
}

#[test]
fn a_returning_contact_goes_back_to_their_agent_when_they_have_room() {
    let mut s = world([2, 2, 2, 2]);
    for a in [1, 2] {
        s.agents.get_mut(&a).unwrap().online = true;
    }
    s.agents.get_mut(&1).unwrap().open = 1;
    s.last_agent_of_contact.insert(7, 1);
    s.conversations.insert(
        1,
        Conversation {
            id: 1,
            inbox_id: 10,
            contact_id: 7,
            active: true,
            created_at: 1,
            ..Default::default()
        },
    );
    assert_eq!(
        s.route(),
        vec![Decision::Assign {
            conversation: 1,
            agent: 1
        }],
        "sticky beats balanced"
    );
}

#[test]
fn vip_conversations_and_the_longest_waiting_go_first() {
    let mut s = world([1, 0, 1, 0]);
    s.agents.get_mut(&1).unwrap().online = true;
    for (id, waiting, vip) in [(1, 100, false), (2, 300, true), (3, 50, false)] {
        s.conversations.insert(
            id,
            Conversation {
                id,
                inbox_id: 12,
                contact_id: id,
                active: true,
                waiting_since: Some(waiting),
                labels: if vip { vec!["vip".into()] } else { vec![] },
                ..Default::default()
            },
        );
    }
    assert_eq!(s.backlog(), vec![2, 3, 1]);
    assert_eq!(
        s.route(),
        vec![Decision::Assign {
            conversation: 2,
            agent: 1
        }]
    );
}

#[test]
fn a_missed_first_reply_deadline_moves_the_conversation_to_someone_else() {
    let mut s = world([1, 1, 1, 1]);
    for a in [2, 3] {
        s.agents.get_mut(&a).unwrap().online = true;
    }
    s.conversations.insert(
        1,
        Conversation {
            id: 1,
            inbox_id: 11,
            contact_id: 1,
            active: true,
            created_at: s.now,
            ..Default::default()
        },
    );
    let first = s.route();
    let Decision::Assign {
        agent: first_agent, ..
    } = first[0]
    else {
        panic!("{first:?}")
    };
    s.now += 121_000;
    let second = s.route();
    assert!(
        matches!(second[0], Decision::Unassign { agent, reason: super::Reason::FirstReplyDeadline, .. } if agent == first_agent)
    );
    assert!(matches!(second[1], Decision::Assign { agent, .. } if agent != first_agent));
}

#[test]
fn a_shared_queue_keeps_a_hand_picked_agent_who_is_away() {
    let mut s = world([1, 1, 1, 1]);
    s.policies.insert(20, RoutingPolicy::default());
    s.agents.get_mut(&1).unwrap().inboxes.insert(20);
    let conversation = |id, inbox_id| Conversation {
        id,
        inbox_id,
        contact_id: id,
        active: true,
        assignee: Some(1),
        created_at: s.now,
        ..Default::default()
    };
    s.conversations.insert(1, conversation(1, 20));
    s.conversations.insert(2, conversation(2, 10));
    s.agents.get_mut(&1).unwrap().open = 2;
    let decisions = s.route();
    assert_eq!(
        decisions,
        vec![Decision::Unassign {
            conversation: 2,
            agent: 1,
            reason: super::Reason::AgentOffline
        }],
        "only the automatic inbox takes its conversation back"
    );
}
