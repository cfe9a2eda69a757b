//! Login throttling: a sign-in attempt is reserved against every budget that applies to it
//! BEFORE its password is hashed, so parallel guesses all count (a limit read before the hash
//! and written after lets 40 concurrent guesses through a limit of 10). A successful sign-in
//! gives its reservation back.
//!
//! The budgets, and why they cannot be turned into a lock-out of the rightful user:
//!
//! - per client address, every attempt (a `governor` keyed GCRA limiter): caps the argon2 work
//!   one address can make us do, successes included;
//! - per client address, failures in the window: one address cannot guess across many accounts;
//! - per (account, client address), failures in the window: one address cannot guess at one
//!   account, and exhausting it locks out only that address;
//! - per account, failures in the window, counted and applied ONLY for addresses that have never
//!   signed in to that account: a guessing campaign spread over many addresses is capped, while
//!   the owner, signing in from an address they have used before, is never held by it.
//!
//! So an attacker hammering an account from other addresses uses up only budgets the owner does
//! not draw on. Known addresses are kept in the database (`login_addresses`) and read back at
//! start, so a restart does not hand the attacker that lock-out; an address never used before
//! by the account can still be held while a campaign spread over many addresses runs. IPv6
//! addresses are keyed by their /64, which one subscriber usually holds whole.
//! Failure budgets are small counters of their own because a GCRA limiter cannot give a cell
//! back, and a success must.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// The budgets' sizes, from `[security]` in the configuration.
#[derive(Clone, Debug)]
pub struct LoginPolicy {
    pub attempts_per_minute_per_address: u32,
    pub failures_per_address: u32,
    pub failures_per_account_address: u32,
    pub failures_per_account: u32,
    pub window: Duration,
    /// How long an address that signed in to an account stays exempt from its account budget.
    pub known_address_for: Duration,
}

/// Where an attempt comes from: an IPv4 address, or an IPv6 /64. `None` when the connection
/// has no peer address (in-process callers).
type Origin = Option<IpAddr>;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Budget {
    Address(Origin),
    AccountAddress(String, Origin),
    Account(String),
}

pub struct LoginLimiter {
    policy: LoginPolicy,
    attempts: DefaultKeyedRateLimiter<Origin>,
    ledger: Mutex<Ledger>,
}

#[derive(Default)]
struct Ledger {
    /// Reserved or failed attempts per budget, oldest first, never more than the budget allows.
    failures: HashMap<Budget, VecDeque<Instant>>,
    /// (account, origin) pairs that signed in, and when last.
    known: HashMap<(String, Origin), Instant>,
}

/// Past this many tracked keys, expired ones are dropped on the next attempt.
const PRUNE_ABOVE: usize = 50_000;

impl LoginLimiter {
    pub fn new(policy: LoginPolicy) -> Self {
        let per_minute = NonZeroU32::new(policy.attempts_per_minute_per_address.max(1))
            .unwrap_or(NonZeroU32::MIN);
        LoginLimiter {
            attempts: RateLimiter::keyed(Quota::per_minute(per_minute)),
            policy,
            ledger: Mutex::new(Ledger::default()),
        }
    }

    /// How sign-ins are keyed: the account as typed, trimmed and lower-cased, and the address
    /// as its origin (IPv6 by /64); what the store keeps of known addresses.
    pub fn keys(account: &str, ip: Option<IpAddr>) -> (String, String) {
        (
            account.trim().to_lowercase(),
            ip.map(origin_of).map_or(String::new(), |o| o.to_string()),
        )
    }

    /// Makes an address known to an account as of `age` ago (read back from the store at start).
    pub fn remember(&self, account: &str, address: &str, age: Duration) {
        let origin = if address.is_empty() {
            None
        } else {
            match address.parse::<IpAddr>() {
                Ok(ip) => Some(origin_of(ip)),
                Err(_) => return,
            }
        };
        let Some(at) = Instant::now().checked_sub(age) else {
            return;
        };
        if age >= self.policy.known_address_for {
            return;
        }
        let mut ledger = self.ledger.lock().unwrap_or_else(|e| e.into_inner());
        ledger
            .known
            .insert((account.trim().to_lowercase(), origin), at);
    }

    /// How long a sign-in keeps its address known.
    pub fn known_for(&self) -> Duration {
        self.policy.known_address_for
    }

    /// Reserves one attempt at `account` from `ip`; `Err(wait)` when a budget is spent. The
    /// reservation counts as a failure unless `succeeded` is called on it.
    pub fn reserve(&self, account: &str, ip: Option<IpAddr>) -> Result<Reservation<'_>, Duration> {
        let origin = ip.map(origin_of);
        let account = account.trim().to_lowercase();
        let now = Instant::now();
        let window = self.policy.window;
        let mut ledger = self.ledger.lock().unwrap_or_else(|e| e.into_inner());
        if ledger.failures.len() + ledger.known.len() > PRUNE_ABOVE {
            ledger.prune(now, window);
            self.attempts.retain_recent();
        }
        let known = ledger
            .known
            .get(&(account.clone(), origin))
            .is_some_and(|since| now.duration_since(*since) < self.policy.known_address_for);
        let mut budgets = vec![
            (Budget::Address(origin), self.policy.failures_per_address),
            (
                Budget::AccountAddress(account.clone(), origin),
                self.policy.failures_per_account_address,
            ),
        ];
        if !known {
            budgets.push((
                Budget::Account(account.clone()),
                self.policy.failures_per_account,
            ));
        }
        // Check every budget before taking from any, all under one lock, so that a refused
        // attempt costs nothing and two attempts never both take the last place.
        let mut wait = Duration::ZERO;
        for (budget, limit) in &budgets {
            // A refused attempt must not leave keys behind: look, do not insert.
            let Some(entries) = ledger.failures.get_mut(budget) else {
                continue;
            };
            while entries
                .front()
                .is_some_and(|at| now.duration_since(*at) >= window)
            {
                entries.pop_front();
            }
            if entries.len() >= *limit as usize {
                let oldest = entries.front().copied().unwrap_or(now);
                wait = wait.max(window.saturating_sub(now.duration_since(oldest)));
            }
        }
        if wait > Duration::ZERO {
            return Err(wait.max(Duration::from_secs(1)));
        }
        if let Err(not_until) = self.attempts.check_key(&origin) {
            let wait = not_until.wait_time_from(self.attempts.clock().now());
            return Err(wait.max(Duration::from_secs(1)));
        }
        for (budget, _) in &budgets {
            ledger
                .failures
                .entry(budget.clone())
                .or_default()
                .push_back(now);
        }
        Ok(Reservation {
            limiter: self,
            budgets: budgets.into_iter().map(|(b, _)| b).collect(),
            account,
            origin,
            at: now,
        })
    }
}

impl Ledger {
    fn prune(&mut self, now: Instant, window: Duration) {
        self.failures.retain(|_, entries| {
            entries
                .back()
                .is_some_and(|at| now.duration_since(*at) < window)
        });
        // Known addresses are kept: they only ever help the rightful user. Bound them anyway.
        if self.known.len() > PRUNE_ABOVE {
            let mut ages: Vec<Instant> = self.known.values().copied().collect();
            ages.sort_unstable();
            let cut = ages[ages.len() - PRUNE_ABOVE / 2];
            self.known.retain(|_, at| *at >= cut);
        }
    }
}

/// One attempt's place in its budgets. Dropped without `succeeded`, it stays spent.
#[must_use = "a reservation that is dropped counts as a failed attempt"]
pub struct Reservation<'a> {
    limiter: &'a LoginLimiter,
    budgets: Vec<Budget>,
    account: String,
    origin: Origin,
    at: Instant,
}

impl Reservation<'_> {
    /// The password was right: the attempt is given back and the address becomes known to the
    /// account, so the account's shared budget no longer applies to it.
    pub fn succeeded(self) {
        let mut ledger = self
            .limiter
            .ledger
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        for budget in &self.budgets {
            if let Some(entries) = ledger.failures.get_mut(budget) {
                if let Some(i) = entries.iter().rposition(|at| *at == self.at) {
                    entries.remove(i);
                }
            }
        }
        // This address proved it holds the password: its own failures there are forgiven. The
        // per-address budget is not, or one's own account would reset it between guesses.
        ledger
            .failures
            .remove(&Budget::AccountAddress(self.account.clone(), self.origin));
        ledger
            .known
            .insert((self.account.clone(), self.origin), Instant::now());
    }

    /// The password was wrong: the reservation stays spent.
    pub fn failed(self) {}
}

fn origin_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> LoginPolicy {
        LoginPolicy {
            attempts_per_minute_per_address: 1000,
            failures_per_address: 10,
            failures_per_account_address: 3,
            failures_per_account: 5,
            window: Duration::from_millis(300),
            known_address_for: Duration::from_secs(60),
        }
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn a_reservation_counts_before_it_is_settled() {
        let limiter = LoginLimiter::new(policy());
        let held: Vec<_> = (0..3)
            .map(|_| limiter.reserve("a@x", ip("10.0.0.1")).unwrap())
            .collect();
        assert!(limiter.reserve("a@x", ip("10.0.0.1")).is_err());
        drop(held);
        assert!(limiter.reserve("a@x", ip("10.0.0.1")).is_err());
    }

    #[test]
    fn a_success_gives_its_attempt_back() {
        let limiter = LoginLimiter::new(policy());
        for _ in 0..20 {
            limiter.reserve("a@x", ip("10.0.0.1")).unwrap().succeeded();
        }
    }

    #[test]
    fn other_addresses_spend_the_account_budget_but_not_a_known_address() {
        let limiter = LoginLimiter::new(policy());
        limiter.reserve("a@x", ip("10.0.0.1")).unwrap().succeeded();
        for n in 0..5 {
            let attacker = ip(&format!("192.0.2.{n}"));
            limiter.reserve("a@x", attacker).unwrap().failed();
        }
        assert!(limiter.reserve("a@x", ip("192.0.2.99")).is_err());
        assert!(limiter.reserve("A@X ", ip("10.0.0.1")).is_ok());
    }

    #[test]
    fn budgets_refill_when_the_window_passes() {
        let limiter = LoginLimiter::new(policy());
        for _ in 0..3 {
            limiter.reserve("a@x", ip("10.0.0.1")).unwrap().failed();
        }
        let wait = limiter.reserve("a@x", ip("10.0.0.1")).err().unwrap();
        assert!(wait >= Duration::from_secs(1));
        std::thread::sleep(Duration::from_millis(350));
        assert!(limiter.reserve("a@x", ip("10.0.0.1")).is_ok());
    }

    #[test]
    fn every_attempt_counts_against_the_address_rate() {
        let limiter = LoginLimiter::new(LoginPolicy {
            attempts_per_minute_per_address: 2,
            ..policy()
        });
        limiter.reserve("a@x", ip("10.0.0.1")).unwrap().succeeded();
        limiter.reserve("b@x", ip("10.0.0.1")).unwrap().succeeded();
        assert!(limiter.reserve("c@x", ip("10.0.0.1")).is_err());
        assert!(limiter.reserve("c@x", ip("10.0.0.2")).is_ok());
    }

    #[test]
    fn ipv6_addresses_share_their_slash_64() {
        assert_eq!(
            origin_of("2001:db8::1".parse().unwrap()),
            origin_of("2001:db8::ffff:2".parse().unwrap())
        );
        assert_eq!(
            origin_of("::ffff:10.0.0.1".parse().unwrap()),
            "10.0.0.1".parse::<IpAddr>().unwrap()
        );
    }
}
