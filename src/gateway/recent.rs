//! The recent part of each workspace's event log, kept in memory as the very frames the hub sent,
//! so that consoles coming back together (a restart, a network blip: a reconnect storm) replay
//! from memory. Without it every resuming console reads the log from the store on its own, and
//! thousands of them doing so at once keep the store busy for minutes; with it the log is read
//! once per gap, by whichever console asks first.
//!
//! A window holds every event in `(floor, newest]` of one workspace, contiguous by construction:
//! the hub records events in sequence order, and anything else starts the window afresh. It keeps
//! events only while the workspace has consoles connected (the hub says so), and at most
//! `capacity` of them; older ones are read from the store as before.

use std::collections::{HashMap, VecDeque};

use axum::extract::ws::Utf8Bytes;

use super::hub::{Audience, Visibility};
use crate::domain::{Event, Id};

/// One event as the window keeps it: what deciding who may see it needs, and its frame.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub seq: i64,
    /// None for an event nobody may hear (it lacks what deciding needs).
    pub visibility: Option<Visibility>,
    pub frame: Utf8Bytes,
}

impl Recorded {
    pub fn new(event: &Event, frame: Utf8Bytes) -> Recorded {
        Recorded {
            seq: event.seq,
            visibility: Visibility::of(event),
            frame,
        }
    }

    fn seen_by(&self, audience: &Audience) -> bool {
        self.visibility
            .is_some_and(|v| audience.sees_visibility(&v))
    }
}

#[derive(Debug)]
struct Window {
    /// Every event after this one (up to the newest) is in `events`.
    floor: i64,
    events: VecDeque<Recorded>,
}

impl Window {
    fn newest(&self) -> i64 {
        self.events.back().map_or(self.floor, |e| e.seq)
    }
}

/// Every workspace's window.
#[derive(Debug)]
pub struct RecentEvents {
    capacity: usize,
    windows: HashMap<Id, Window>,
}

/// What a resuming console gets from the window.
#[derive(Debug, PartialEq)]
pub enum Replay {
    /// The frames after the console's last event that it may see, and the newest sequence number
    /// they cover (everything later reaches the console live).
    Frames { frames: Vec<Utf8Bytes>, newest: i64 },
    /// The window starts after the console's last event: these events, `(after, floor]`, must be
    /// read from the log first (see [`RecentEvents::prepend`]).
    Missing { floor: i64 },
    /// Nothing known about the workspace, or the gap is more than the window may hold: read the
    /// log directly.
    Unavailable,
}

impl RecentEvents {
    pub fn new(capacity: usize) -> RecentEvents {
        RecentEvents {
            capacity,
            windows: HashMap::new(),
        }
    }

    /// Forgets every workspace (events went by unrouted: every console resyncs).
    pub fn clear(&mut self) {
        self.windows.clear();
    }

    /// The workspace's log stands at `seq` and nothing after it is known yet.
    pub fn start(&mut self, workspace_id: Id, seq: i64) {
        self.windows.insert(
            workspace_id,
            Window {
                floor: seq,
                events: VecDeque::new(),
            },
        );
    }

    /// Forgets a workspace (its events were not all routed: consoles resync).
    pub fn forget(&mut self, workspace_id: Id) {
        self.windows.remove(&workspace_id);
    }

    /// Records an event the hub just routed. `keep` is false when nobody in the workspace is
    /// connected: the window then only moves along (nobody can be resuming in memory).
    pub fn record(&mut self, workspace_id: Id, recorded: Recorded, keep: bool) {
        let capacity = self.capacity;
        let window = self.windows.entry(workspace_id).or_insert(Window {
            floor: recorded.seq - 1,
            events: VecDeque::new(),
        });
        if !keep || capacity == 0 {
            window.events.clear();
            window.floor = recorded.seq;
            return;
        }
        if recorded.seq != window.newest() + 1 {
            window.events.clear();
            window.floor = recorded.seq - 1;
        }
        window.events.push_back(recorded);
        while window.events.len() > capacity {
            if let Some(old) = window.events.pop_front() {
                window.floor = old.seq;
            }
        }
    }

    /// What a console that last saw `after` should be sent.
    pub fn replay(&self, workspace_id: Id, after: i64, audience: &Audience) -> Replay {
        let Some(window) = self.windows.get(&workspace_id) else {
            return Replay::Unavailable;
        };
        if after < window.floor {
            let room = self.capacity.saturating_sub(window.events.len()) as i64;
            return if window.floor - after <= room {
                Replay::Missing {
                    floor: window.floor,
                }
            } else {
                Replay::Unavailable
            };
        }
        let frames = window
            .events
            .iter()
            .skip_while(|e| e.seq <= after)
            .filter(|e| e.seen_by(audience))
            .map(|e| e.frame.clone())
            .collect();
        Replay::Frames {
            frames,
            newest: window.newest().max(after),
        }
    }

    /// Puts `older`, the log's events `(new_floor, floor]` read from the store, in front of the
    /// window, if the window still starts at `floor` and there is room. False when not (another
    /// console filled the gap first, or the window moved on): the caller asks again.
    pub fn prepend(
        &mut self,
        workspace_id: Id,
        floor: i64,
        new_floor: i64,
        older: Vec<Recorded>,
    ) -> bool {
        let capacity = self.capacity;
        let Some(window) = self.windows.get_mut(&workspace_id) else {
            return false;
        };
        let contiguous = older.len() as i64 == floor - new_floor
            && older.first().is_none_or(|e| e.seq == new_floor + 1)
            && older.last().is_none_or(|e| e.seq == floor);
        if window.floor != floor || !contiguous || window.events.len() + older.len() > capacity {
            return false;
        }
        for recorded in older.into_iter().rev() {
            window.events.push_front(recorded);
        }
        window.floor = new_floor;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn recorded(seq: i64, inbox: Option<Id>) -> Recorded {
        Recorded {
            seq,
            visibility: Some(Visibility {
                inbox_id: inbox,
                reader: None,
                admins_only: false,
            }),
            frame: format!("frame {seq}").into(),
        }
    }

    fn member_of(inboxes: &[Id]) -> Audience {
        Audience {
            user_id: 1,
            admin: false,
            inboxes: Arc::from(inboxes),
        }
    }

    fn frames(replay: Replay) -> (Vec<String>, i64) {
        match replay {
            Replay::Frames { frames, newest } => (
                frames.iter().map(|f| f.as_str().to_owned()).collect(),
                newest,
            ),
            other => panic!("expected frames, got {other:?}"),
        }
    }

    #[test]
    fn a_console_resuming_inside_the_window_gets_what_it_may_see_after_its_last_event() {
        let mut recent = RecentEvents::new(100);
        recent.start(1, 10);
        for seq in 11..=15 {
            recent.record(
                1,
                recorded(seq, Some(if seq % 2 == 0 { 7 } else { 8 })),
                true,
            );
        }
        let (sent, newest) = frames(recent.replay(1, 11, &member_of(&[7])));
        assert_eq!(sent, ["frame 12", "frame 14"]);
        assert_eq!(
            newest, 15,
            "events it may not see are passed, not waited for"
        );
        let (sent, newest) = frames(recent.replay(1, 15, &member_of(&[7])));
        assert!(sent.is_empty());
        assert_eq!(newest, 15);
    }

    #[test]
    fn a_gap_before_the_window_is_read_once_and_then_served_from_memory() {
        let mut recent = RecentEvents::new(100);
        recent.start(1, 10);
        recent.record(1, recorded(11, None), true);
        assert_eq!(
            recent.replay(1, 7, &member_of(&[])),
            Replay::Missing { floor: 10 }
        );
        let older = (8..=10).map(|s| recorded(s, None)).collect();
        assert!(recent.prepend(1, 10, 7, older));
        let (sent, _) = frames(recent.replay(1, 7, &member_of(&[])));
        assert_eq!(sent, ["frame 8", "frame 9", "frame 10", "frame 11"]);
        // A second console that read the same gap finds it filled and asks again.
        assert!(!recent.prepend(1, 10, 7, vec![recorded(10, None)]));
    }

    #[test]
    fn the_window_holds_at_most_its_capacity_and_older_gaps_go_to_the_log() {
        let mut recent = RecentEvents::new(3);
        recent.start(1, 0);
        for seq in 1..=5 {
            recent.record(1, recorded(seq, None), true);
        }
        let (sent, _) = frames(recent.replay(1, 2, &member_of(&[])));
        assert_eq!(sent, ["frame 3", "frame 4", "frame 5"]);
        assert_eq!(recent.replay(1, 1, &member_of(&[])), Replay::Unavailable);
    }

    #[test]
    fn a_hole_in_the_sequence_starts_the_window_afresh() {
        let mut recent = RecentEvents::new(10);
        recent.start(1, 0);
        recent.record(1, recorded(1, None), true);
        recent.record(1, recorded(5, None), true);
        assert_eq!(
            recent.replay(1, 1, &member_of(&[])),
            Replay::Missing { floor: 4 }
        );
        let (sent, _) = frames(recent.replay(1, 4, &member_of(&[])));
        assert_eq!(sent, ["frame 5"]);
    }

    #[test]
    fn nothing_is_kept_while_nobody_is_connected() {
        let mut recent = RecentEvents::new(10);
        recent.start(1, 0);
        recent.record(1, recorded(1, None), false);
        recent.record(1, recorded(2, None), false);
        assert_eq!(
            recent.replay(1, 0, &member_of(&[])),
            Replay::Missing { floor: 2 }
        );
        recent.record(1, recorded(3, None), true);
        let (sent, _) = frames(recent.replay(1, 2, &member_of(&[])));
        assert_eq!(sent, ["frame 3"]);
    }

    #[test]
    fn unknown_workspaces_replay_from_the_log() {
        let recent = RecentEvents::new(10);
        assert_eq!(recent.replay(9, 0, &member_of(&[])), Replay::Unavailable);
    }
}
