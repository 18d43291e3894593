//! The no-redial bar after an abandon, across every campaign of the engine: a number whose
//! live answer was abandoned under a profile with a bar (UK: 72 h) is not dialed again by any
//! campaign until the bar ends. Rebuilt from the `abandoned` events on replay.

use std::collections::{HashMap, VecDeque};

use jiff::Timestamp;

use crate::number::E164;

/// Barred numbers and when each may be dialed again.
#[derive(Debug, Clone, Default)]
pub(crate) struct RedialBar {
    /// Number -> the instant it may be dialed again (the latest bar's end wins).
    until: HashMap<E164, Timestamp>,
    /// The same in insertion order, possibly with stale entries of numbers barred again since.
    order: VecDeque<(Timestamp, E164)>,
}

impl RedialBar {
    /// Bars `number` until `until` (a shorter bar never shortens a longer one).
    pub fn insert(&mut self, number: &E164, until: Timestamp) {
        let longest = self.until.get(number).map_or(until, |u| (*u).max(until));
        self.until.insert(number.clone(), longest);
        self.order.push_back((longest, number.clone()));
    }

    /// `Err(until)` while `number` is barred at `now`.
    pub fn check(&self, now: Timestamp, number: &E164) -> Result<(), Timestamp> {
        match self.until.get(number) {
            Some(until) if now < *until => Err(*until),
            _ => Ok(()),
        }
    }

    /// Forgets the bars over at `now` (the front of `order` is only roughly the earliest end;
    /// a bar left behind a longer one is dropped later, and `check` ignores ended bars).
    pub fn expire(&mut self, now: Timestamp) {
        while let Some((until, _)) = self.order.front() {
            if *until > now {
                break;
            }
            if let Some((until, number)) = self.order.pop_front() {
                if self.until.get(&number) == Some(&until) {
                    self.until.remove(&number);
                }
            }
        }
    }

    /// Numbers barred (some possibly ended since the last [`RedialBar::expire`]).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.until.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64) -> Timestamp {
        let t0: Timestamp = "2026-12-07T10:00:00Z"
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        t0 + Duration::from_secs(secs)
    }

    fn number(n: u32) -> E164 {
        E164::parse(&format!("+4420{n:08}")).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_bar_holds_until_its_end_and_a_shorter_one_never_shortens_it() {
        let mut bar = RedialBar::default();
        bar.insert(&number(1), at(100));
        bar.insert(&number(1), at(50));
        assert_eq!(bar.check(at(60), &number(1)), Err(at(100)));
        assert_eq!(bar.check(at(60), &number(2)), Ok(()));
        bar.expire(at(99));
        assert_eq!(bar.check(at(99), &number(1)), Err(at(100)));
        bar.expire(at(100));
        assert_eq!(bar.check(at(100), &number(1)), Ok(()));
        assert_eq!(bar.len(), 0);
    }
}
