//! Asking a caller whose own number is unusable for the number to call back: pure, on the time
//! passed in. The caller hears `callback_number`, types the number and `#` (or stops typing for
//! a moment, or reaches the longest number), hears it read back digit by digit with
//! `callback_entered` before and `callback_confirm` after, and presses 1 to confirm or 2 to
//! type it again. A number that is no phone number (in E.164 with the dialplan's country), no
//! key at all, or no confirmation costs an attempt: `invalid`, then the question again; after
//! the last attempt the entry gives up (the caller stays in the queue).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use hotline_dialplan::say::{self, SayKind, SayLanguage};
use hotline_dialplan::CountryCode;

/// The question: "Please enter the number we should call, then press the hash key."
pub(super) const ASK: &str = "callback_number";
/// Before the number read back: "You entered".
pub(super) const ENTERED: &str = "callback_entered";
/// After the number read back: "Press 1 to confirm, or 2 to enter it again."
pub(super) const CONFIRM: &str = "callback_confirm";
/// After an unusable number or no key.
pub(super) const INVALID: &str = "invalid";

/// How long and how often a number entry waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct EntryLimits {
    /// For the first key once the question was heard.
    pub first_key: Duration,
    /// Between keys: then the number typed so far is taken as complete.
    pub between_keys: Duration,
    /// For 1 or 2 once the number was read back.
    pub confirm: Duration,
    /// Keys taken at most (E.164 has 15 digits); the last one ends the number.
    pub max_digits: usize,
    /// Attempts in all (the first one and the retries).
    pub attempts: u32,
}

impl Default for EntryLimits {
    fn default() -> Self {
        EntryLimits {
            first_key: Duration::from_secs(10),
            between_keys: Duration::from_secs(5),
            confirm: Duration::from_secs(8),
            max_digits: 15,
            attempts: 2,
        }
    }
}

/// What the entry wants done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum EntryStep {
    /// Play these prompts one after the other, replacing what plays; the entry then waits for
    /// [`NumberEntry::handle_playback_finished`].
    Play(Vec<String>),
    /// Stop the prompt playing (a key barged in).
    StopPlayback,
    /// The caller confirmed this number (E.164).
    Confirmed(String),
    /// The caller gave no usable number within the attempts.
    GaveUp,
}

/// Where the entry stands.
#[derive(Debug, Clone, PartialEq, Eq)]
enum EntryState {
    /// The question plays; a digit interrupts it.
    Asking,
    /// Taking digits until `#`, the longest number, or `deadline`.
    Typing { deadline: Instant },
    /// The number plays back; 1 or 2 interrupts it.
    ReadingBack { number: String },
    /// Waiting for 1 or 2 until `deadline`.
    Confirming { number: String, deadline: Instant },
    /// Confirmed or given up.
    Done,
}

/// One caller typing a number to call back.
#[derive(Debug)]
pub(super) struct NumberEntry {
    limits: EntryLimits,
    country: CountryCode,
    language: SayLanguage,
    state: EntryState,
    digits: String,
    attempts: u32,
    steps: VecDeque<EntryStep>,
}

impl NumberEntry {
    /// Starts the entry: the question plays.
    pub(super) fn start(limits: EntryLimits, country: CountryCode, language: SayLanguage) -> Self {
        let mut entry = NumberEntry {
            limits,
            country,
            language,
            state: EntryState::Asking,
            digits: String::new(),
            attempts: 1,
            steps: VecDeque::new(),
        };
        entry.steps.push_back(EntryStep::Play(vec![ASK.to_owned()]));
        entry
    }

    /// A key from the caller.
    pub(super) fn handle_digit(&mut self, now: Instant, digit: char) {
        match std::mem::replace(&mut self.state, EntryState::Done) {
            EntryState::Asking => {
                if digit.is_ascii_digit() {
                    self.steps.push_back(EntryStep::StopPlayback);
                    self.state = EntryState::Typing {
                        deadline: now + self.limits.between_keys,
                    };
                    self.typed(now, digit);
                } else {
                    self.state = EntryState::Asking;
                }
            }
            EntryState::Typing { deadline } => {
                self.state = EntryState::Typing { deadline };
                self.typed(now, digit);
            }
            EntryState::ReadingBack { number } | EntryState::Confirming { number, .. }
                if digit == '1' =>
            {
                self.steps.push_back(EntryStep::StopPlayback);
                self.steps.push_back(EntryStep::Confirmed(number));
            }
            EntryState::ReadingBack { .. } | EntryState::Confirming { .. } if digit == '2' => {
                self.steps.push_back(EntryStep::StopPlayback);
                self.again(Vec::new());
            }
            // Other keys during the read back, and every key once done, mean nothing.
            other => self.state = other,
        }
    }

    /// The prompts of the last [`EntryStep::Play`] finished.
    pub(super) fn handle_playback_finished(&mut self, now: Instant) {
        self.state = match std::mem::replace(&mut self.state, EntryState::Done) {
            EntryState::Asking => EntryState::Typing {
                deadline: now + self.limits.first_key,
            },
            EntryState::ReadingBack { number } => EntryState::Confirming {
                number,
                deadline: now + self.limits.confirm,
            },
            other => other,
        };
    }

    /// The deadline of [`NumberEntry::poll_timeout`] passed.
    pub(super) fn handle_timeout(&mut self, now: Instant) {
        match &self.state {
            EntryState::Typing { deadline } if now >= *deadline => {
                if self.digits.is_empty() {
                    self.state = EntryState::Done;
                    self.again(vec![INVALID.to_owned()]);
                } else {
                    self.complete();
                }
            }
            EntryState::Confirming { deadline, .. } if now >= *deadline => {
                self.state = EntryState::Done;
                self.again(vec![INVALID.to_owned()]);
            }
            _ => {}
        }
    }

    /// When the entry must be woken (a key or a confirmation not coming).
    pub(super) fn poll_timeout(&self) -> Option<Instant> {
        match &self.state {
            EntryState::Typing { deadline } | EntryState::Confirming { deadline, .. } => {
                Some(*deadline)
            }
            _ => None,
        }
    }

    /// The next thing to do, until none is left.
    pub(super) fn poll_step(&mut self) -> Option<EntryStep> {
        self.steps.pop_front()
    }

    /// A key while typing: a digit, or `#` ending the number (`*` and others are ignored).
    fn typed(&mut self, now: Instant, key: char) {
        match key {
            '0'..='9' => {
                self.digits.push(key);
                if self.digits.len() >= self.limits.max_digits {
                    self.complete();
                } else {
                    self.state = EntryState::Typing {
                        deadline: now + self.limits.between_keys,
                    };
                }
            }
            '#' if !self.digits.is_empty() => self.complete(),
            '#' => {
                self.state = EntryState::Done;
                self.again(vec![INVALID.to_owned()]);
            }
            _ => {}
        }
    }

    /// The number is typed: read back when it is a phone number, else an attempt is lost.
    fn complete(&mut self) {
        let typed = std::mem::take(&mut self.digits);
        let number = hotline_dialplan::normalize(&typed, self.country);
        let spoken = say::say(SayKind::Digits, &typed, self.language);
        match (number, spoken) {
            (Ok(number), Ok(spoken)) => {
                let mut words = vec![ENTERED.to_owned()];
                words.extend(spoken);
                words.push(CONFIRM.to_owned());
                self.steps.push_back(EntryStep::Play(words));
                self.state = EntryState::ReadingBack { number };
            }
            _ => {
                self.state = EntryState::Done;
                self.again(vec![INVALID.to_owned()]);
            }
        }
    }

    /// Another attempt (after `before`, e.g. `invalid`), or giving up after the last one.
    fn again(&mut self, before: Vec<String>) {
        self.digits.clear();
        if self.attempts >= self.limits.attempts {
            self.state = EntryState::Done;
            self.steps.push_back(EntryStep::GaveUp);
            return;
        }
        self.attempts += 1;
        let mut words = before;
        words.push(ASK.to_owned());
        self.steps.push_back(EntryStep::Play(words));
        self.state = EntryState::Asking;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn china() -> CountryCode {
        CountryCode::new(86).unwrap_or_default()
    }

    fn steps(entry: &mut NumberEntry) -> Vec<EntryStep> {
        std::iter::from_fn(|| entry.poll_step()).collect()
    }

    fn play(words: &[&str]) -> EntryStep {
        EntryStep::Play(words.iter().map(|w| (*w).to_owned()).collect())
    }

    fn typed(entry: &mut NumberEntry, now: Instant, keys: &str) {
        for key in keys.chars() {
            entry.handle_digit(now, key);
        }
    }

    #[test]
    fn a_number_and_hash_is_read_back_and_confirmed_with_1() {
        let t0 = Instant::now();
        let mut entry = NumberEntry::start(EntryLimits::default(), china(), SayLanguage::English);
        assert_eq!(steps(&mut entry), [play(&[ASK])]);
        entry.handle_playback_finished(t0);
        assert_eq!(entry.poll_timeout(), Some(t0 + Duration::from_secs(10)));
        typed(&mut entry, t0 + Duration::from_secs(1), "13912345678#");
        let mut readback = vec![ENTERED];
        let digits = [
            "num_1", "num_3", "num_9", "num_1", "num_2", "num_3", "num_4", "num_5", "num_6",
            "num_7", "num_8",
        ];
        readback.extend(digits);
        readback.push(CONFIRM);
        assert_eq!(steps(&mut entry), [play(&readback)]);
        // Nothing to wait for while the number plays back.
        assert_eq!(entry.poll_timeout(), None);
        entry.handle_playback_finished(t0 + Duration::from_secs(8));
        assert_eq!(
            entry.poll_timeout(),
            Some(t0 + Duration::from_secs(16)),
            "8 s to confirm"
        );
        entry.handle_digit(t0 + Duration::from_secs(9), '1');
        assert_eq!(
            steps(&mut entry),
            [
                EntryStep::StopPlayback,
                EntryStep::Confirmed("+8613912345678".to_owned())
            ]
        );
        assert_eq!(entry.poll_timeout(), None);
    }

    #[test]
    fn a_key_interrupts_the_question_and_the_pause_after_the_last_key_ends_the_number() {
        let t0 = Instant::now();
        let mut entry = NumberEntry::start(EntryLimits::default(), china(), SayLanguage::Mandarin);
        steps(&mut entry);
        typed(&mut entry, t0, "0105556");
        assert_eq!(steps(&mut entry), [EntryStep::StopPlayback]);
        typed(&mut entry, t0 + Duration::from_secs(2), "789");
        // Between keys the entry waits 5 s after the last one.
        assert_eq!(entry.poll_timeout(), Some(t0 + Duration::from_secs(7)));
        entry.handle_timeout(t0 + Duration::from_secs(6));
        assert_eq!(steps(&mut entry), []);
        entry.handle_timeout(t0 + Duration::from_secs(7));
        let Some(EntryStep::Play(words)) = entry.poll_step() else {
            panic!("the number is not read back");
        };
        assert_eq!(words.first().map(String::as_str), Some(ENTERED));
        assert_eq!(words.len(), 12, "{words:?}");
        // A key that is neither 1 nor 2 does not end the read back.
        entry.handle_digit(t0 + Duration::from_secs(8), '5');
        assert_eq!(steps(&mut entry), []);
        entry.handle_digit(t0 + Duration::from_secs(8), '1');
        // 010 is Beijing's area code after the trunk prefix 0.
        assert_eq!(
            steps(&mut entry),
            [
                EntryStep::StopPlayback,
                EntryStep::Confirmed("+86105556789".to_owned())
            ]
        );
    }

    #[test]
    fn a_short_number_costs_an_attempt_and_the_second_failure_gives_up() {
        let t0 = Instant::now();
        let mut entry = NumberEntry::start(EntryLimits::default(), china(), SayLanguage::English);
        steps(&mut entry);
        entry.handle_playback_finished(t0);
        typed(&mut entry, t0, "123#");
        assert_eq!(steps(&mut entry), [play(&[INVALID, ASK])]);
        entry.handle_playback_finished(t0 + Duration::from_secs(6));
        // No key at all after the second question.
        entry.handle_timeout(t0 + Duration::from_secs(16));
        assert_eq!(steps(&mut entry), [EntryStep::GaveUp]);
        assert_eq!(entry.poll_timeout(), None);
        typed(&mut entry, t0 + Duration::from_secs(17), "13912345678#");
        assert_eq!(steps(&mut entry), [], "no key counts after giving up");
    }

    #[test]
    fn pressing_2_types_the_number_again_and_no_confirmation_costs_an_attempt() {
        let t0 = Instant::now();
        let mut entry = NumberEntry::start(EntryLimits::default(), china(), SayLanguage::English);
        steps(&mut entry);
        typed(&mut entry, t0, "13912345678#");
        steps(&mut entry);
        entry.handle_digit(t0 + Duration::from_secs(1), '2');
        assert_eq!(
            steps(&mut entry),
            [EntryStep::StopPlayback, play(&[ASK])],
            "the question again, without `invalid`"
        );
        typed(&mut entry, t0 + Duration::from_secs(2), "13700000000#");
        steps(&mut entry);
        entry.handle_playback_finished(t0 + Duration::from_secs(9));
        entry.handle_timeout(t0 + Duration::from_secs(17));
        assert_eq!(steps(&mut entry), [EntryStep::GaveUp]);
    }

    #[test]
    fn the_longest_number_ends_without_hash_and_hash_alone_is_no_number() {
        let t0 = Instant::now();
        let limits = EntryLimits {
            max_digits: 11,
            ..EntryLimits::default()
        };
        let mut entry = NumberEntry::start(limits, china(), SayLanguage::English);
        steps(&mut entry);
        entry.handle_playback_finished(t0);
        typed(&mut entry, t0, "#");
        assert_eq!(steps(&mut entry), [play(&[INVALID, ASK])]);
        typed(&mut entry, t0, "*13912345678");
        let got = steps(&mut entry);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0], EntryStep::StopPlayback);
        assert!(
            matches!(&got[1], EntryStep::Play(w) if w.len() == 13),
            "{got:?}"
        );
    }
}
