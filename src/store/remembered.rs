//! What the store remembers of what it read, so that the hot path does not read it again: who a
//! token is (principals.rs), an inbox (every API-channel message and widget request names one).
//! An entry is answered for `max_age` at most, and forgotten whole after every committed write
//! that could change it (the engines' SQL calls `forget_all`), so in this process a change holds
//! from the answer that reports it, and one made by another process (the command line, another
//! node on the same database) within `max_age`.
//!
//! A read that raced with a change is not kept: each forgetting starts a new generation, and
//! what was read in an older one is handed to its caller but not remembered.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub(crate) struct Remembered<K, V> {
    entries: Mutex<HashMap<K, (V, Instant)>>,
    generation: AtomicU64,
    max_age: Duration,
    /// The most entries kept: a flood of distinct keys cannot grow memory past it.
    capacity: usize,
}

impl<K: Eq + Hash, V> Remembered<K, V> {
    pub(crate) fn new(max_age: Duration, capacity: usize) -> Self {
        Remembered {
            entries: Mutex::new(HashMap::new()),
            generation: AtomicU64::new(0),
            max_age,
            capacity,
        }
    }

    /// The generation a read starts in; hand it to [`Remembered::keep`] with what it read.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// What `answer` makes of the entry at `key` while it is young enough; an entry it answers
    /// `None` for is forgotten (a token that expired).
    pub(crate) fn answer<Q, R>(
        &self,
        key: &Q,
        answer: impl FnOnce(&mut V) -> Option<R>,
    ) -> Option<R>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let (value, read_at) = entries.get_mut(key)?;
        let answered = if read_at.elapsed() < self.max_age {
            answer(value)
        } else {
            None
        };
        if answered.is_none() {
            entries.remove(key);
        }
        answered
    }

    /// Remembers what a read that started in `generation` found, unless something was forgotten
    /// since (then what it read may be what was just changed).
    pub(crate) fn keep(&self, key: K, value: V, generation: u64) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if self.generation() != generation {
            return;
        }
        if entries.len() >= self.capacity {
            entries.retain(|_, (_, read_at)| read_at.elapsed() < self.max_age);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key, (value, Instant::now()));
    }

    /// Forgets everything: called after each committed write that may change an entry.
    pub(crate) fn forget_all(&self) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.clear();
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.lock().map_or(0, |e| e.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_answered_until_it_is_too_old() {
        let remembered = Remembered::new(Duration::from_millis(50), 10);
        remembered.keep("a", 1, remembered.generation());
        assert_eq!(remembered.answer(&"a", |v| Some(*v)), Some(1));
        assert_eq!(remembered.answer(&"b", |v| Some(*v)), None);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(remembered.answer(&"a", |v| Some(*v)), None, "too old");
        assert_eq!(remembered.len(), 0, "and gone");
    }

    #[test]
    fn a_read_that_raced_with_a_change_is_not_kept() {
        let remembered = Remembered::new(Duration::from_secs(2), 10);
        let started = remembered.generation();
        remembered.forget_all();
        remembered.keep("a", 1, started);
        assert_eq!(remembered.len(), 0);
        remembered.keep("a", 1, remembered.generation());
        assert_eq!(remembered.len(), 1);
        remembered.forget_all();
        assert_eq!(remembered.answer(&"a", |v| Some(*v)), None);
    }

    #[test]
    fn an_entry_answered_with_nothing_is_forgotten() {
        let remembered = Remembered::new(Duration::from_secs(2), 10);
        remembered.keep("a", 1, remembered.generation());
        assert_eq!(remembered.answer(&"a", |_| None::<i32>), None);
        assert_eq!(remembered.len(), 0);
    }

    #[test]
    fn memory_stays_bounded() {
        let remembered = Remembered::new(Duration::from_secs(2), 100);
        for i in 0..110 {
            remembered.keep(i, i, remembered.generation());
        }
        assert!(remembered.len() <= 100);
    }
}
