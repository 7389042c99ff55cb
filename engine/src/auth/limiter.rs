//! The login rate limit: failed logins per user name and per address within a sliding window,
//! kept in memory (a restart forgets them, which only an operator can cause).
//!
//! An attempt is counted as a failure when it begins and taken back when it succeeds, so a
//! burst of parallel guesses cannot all pass the check before the first one has failed.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many keys each table may hold before expired ones are swept.
const SWEEP_AT: usize = 4096;

pub(crate) struct Limiter {
    user_failures: u32,
    address_failures: u32,
    window: Duration,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    by_name: HashMap<String, VecDeque<Instant>>,
    by_address: HashMap<IpAddr, VecDeque<Instant>>,
}

/// A begun attempt: pass it to [`Limiter::succeeded`] when the password was right.
#[derive(Debug)]
pub(crate) struct Attempt {
    name: String,
    address: IpAddr,
    at: Instant,
}

impl Limiter {
    pub fn new(user_failures: u32, address_failures: u32, window: Duration) -> Limiter {
        Limiter {
            user_failures,
            address_failures,
            window,
            state: Mutex::new(State::default()),
        }
    }

    /// Refuses (with how long to wait) when `name` or `peer` already has its limit of failures
    /// in the window; otherwise counts this attempt as a failure for both.
    pub fn begin(&self, name: &str, peer: IpAddr) -> Result<Attempt, Duration> {
        self.begin_at(name, peer, Instant::now())
    }

    fn begin_at(&self, name: &str, peer: IpAddr, now: Instant) -> Result<Attempt, Duration> {
        let name = name_key(name);
        let address = address_key(peer);
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let window = self.window;
        if state.by_name.len() > SWEEP_AT {
            state.by_name.retain(|_, q| {
                expire(q, now, window);
                !q.is_empty()
            });
        }
        if state.by_address.len() > SWEEP_AT {
            state.by_address.retain(|_, q| {
                expire(q, now, window);
                !q.is_empty()
            });
        }
        let by_name = state.by_name.entry(name.clone()).or_default();
        expire(by_name, now, window);
        let name_wait = wait(by_name, self.user_failures, now, window);
        let by_address = state.by_address.entry(address).or_default();
        expire(by_address, now, window);
        let address_wait = wait(by_address, self.address_failures, now, window);
        if let Some(retry) = name_wait.into_iter().chain(address_wait).max() {
            return Err(retry);
        }
        state
            .by_name
            .entry(name.clone())
            .or_default()
            .push_back(now);
        state.by_address.entry(address).or_default().push_back(now);
        Ok(Attempt {
            name,
            address,
            at: now,
        })
    }

    /// A correct password: the name's failures are cleared, and this attempt is no longer
    /// counted against the address (its earlier failures are).
    pub fn succeeded(&self, attempt: Attempt) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.by_name.remove(&attempt.name);
        if let Some(q) = state.by_address.get_mut(&attempt.address) {
            if let Some(i) = q.iter().rposition(|t| *t == attempt.at) {
                q.remove(i);
            }
            if q.is_empty() {
                state.by_address.remove(&attempt.address);
            }
        }
    }
}

/// Drops the failures older than the window.
fn expire(q: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while q.front().is_some_and(|t| now.duration_since(*t) >= window) {
        q.pop_front();
    }
}

/// With `limit` or more failures in the window, how long until one fewer remains. A limit of
/// 0 is no limit.
fn wait(q: &VecDeque<Instant>, limit: u32, now: Instant, window: Duration) -> Option<Duration> {
    let limit = limit as usize;
    if limit == 0 || q.len() < limit {
        return None;
    }
    // Once the failure at this index ages out, fewer than `limit` remain.
    let t = q[q.len() - limit];
    Some((t + window).saturating_duration_since(now))
}

/// Names longer than a user name may be cannot exist; they share one key per prefix so that
/// long garbage cannot grow the table by much.
fn name_key(name: &str) -> String {
    name.chars().take(64).collect()
}

/// An IPv6 client usually has a whole /64 to itself, so the /64 is what is limited; IPv4
/// addresses (also IPv4-mapped ones) are limited one by one.
fn address_key(peer: IpAddr) -> IpAddr {
    match peer.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_name_is_limited_after_its_failures_and_released_when_they_age() {
        let limiter = Limiter::new(2, 10, Duration::from_secs(60));
        let t0 = Instant::now();
        limiter.begin_at("a", ip("10.0.0.1"), t0).unwrap();
        limiter
            .begin_at("a", ip("10.0.0.2"), t0 + Duration::from_secs(10))
            .unwrap();
        let wait = limiter
            .begin_at("a", ip("10.0.0.3"), t0 + Duration::from_secs(20))
            .unwrap_err();
        assert_eq!(wait, Duration::from_secs(40));
        limiter
            .begin_at("a", ip("10.0.0.3"), t0 + Duration::from_secs(61))
            .unwrap();
    }

    #[test]
    fn an_address_is_limited_across_names_and_ipv6_by_its_64() {
        let limiter = Limiter::new(10, 2, Duration::from_secs(60));
        let t0 = Instant::now();
        limiter.begin_at("a", ip("2001:db8::1"), t0).unwrap();
        limiter.begin_at("b", ip("2001:db8::2"), t0).unwrap();
        assert!(limiter.begin_at("c", ip("2001:db8::3"), t0).is_err());
        limiter.begin_at("c", ip("2001:db8:0:1::3"), t0).unwrap();
        limiter.begin_at("a", ip("::ffff:10.0.0.1"), t0).unwrap();
        limiter.begin_at("b", ip("10.0.0.1"), t0).unwrap();
        assert!(limiter.begin_at("c", ip("10.0.0.1"), t0).is_err());
    }

    #[test]
    fn success_clears_the_name_and_takes_back_its_attempt() {
        let limiter = Limiter::new(2, 3, Duration::from_secs(60));
        let t0 = Instant::now();
        limiter.begin_at("a", ip("10.0.0.1"), t0).unwrap();
        let ok = limiter.begin_at("a", ip("10.0.0.1"), t0).unwrap();
        limiter.succeeded(ok);
        limiter.begin_at("a", ip("10.0.0.1"), t0).unwrap();
        limiter.begin_at("a", ip("10.0.0.1"), t0).unwrap();
        // The address has 3 failures now (the successful attempt does not count).
        assert!(limiter.begin_at("b", ip("10.0.0.1"), t0).is_err());
    }
}
