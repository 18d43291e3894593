//! The agent's DTMF pause and resume codes (e.g. `*1` and `*2`), matched on the digits the
//! agent's phone sends; pure, the time of each digit is passed in.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Digits further apart than this do not make one code.
pub const INTER_DIGIT: Duration = Duration::from_secs(3);

/// What a code asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeAction {
    /// Pause the recording.
    Pause,
    /// Resume it.
    Resume,
}

/// Matches the codes on a stream of digits.
#[derive(Debug, Clone)]
pub struct CodeMatcher {
    pause: Option<String>,
    resume: Option<String>,
    recent: VecDeque<(char, Instant)>,
}

impl CodeMatcher {
    /// A matcher for the two codes (either may be absent).
    pub fn new(pause: Option<String>, resume: Option<String>) -> Self {
        CodeMatcher {
            pause,
            resume,
            recent: VecDeque::new(),
        }
    }

    /// Takes one digit received at `now`; returns the action when it completes a code.
    pub fn digit(&mut self, now: Instant, digit: char) -> Option<CodeAction> {
        if self
            .recent
            .back()
            .is_some_and(|(_, at)| now.saturating_duration_since(*at) > INTER_DIGIT)
        {
            self.recent.clear();
        }
        self.recent.push_back((digit, now));
        let longest = [&self.pause, &self.resume]
            .iter()
            .filter_map(|c| c.as_ref().map(|c| c.chars().count()))
            .max()
            .unwrap_or(0);
        while self.recent.len() > longest {
            self.recent.pop_front();
        }
        let typed: String = self.recent.iter().map(|(d, _)| *d).collect();
        let action = if self
            .pause
            .as_ref()
            .is_some_and(|p| typed.ends_with(p.as_str()))
        {
            Some(CodeAction::Pause)
        } else if self
            .resume
            .as_ref()
            .is_some_and(|r| typed.ends_with(r.as_str()))
        {
            Some(CodeAction::Resume)
        } else {
            None
        };
        if action.is_some() {
            self.recent.clear();
        }
        action
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher() -> CodeMatcher {
        CodeMatcher::new(Some("*1".into()), Some("*2".into()))
    }

    #[test]
    fn the_codes_match_after_any_other_digits() {
        let t0 = Instant::now();
        let mut m = matcher();
        let ms = |n: u64| t0 + Duration::from_millis(n);
        assert_eq!(m.digit(ms(0), '5'), None);
        assert_eq!(m.digit(ms(100), '*'), None);
        assert_eq!(m.digit(ms(300), '1'), Some(CodeAction::Pause));
        // The code's digits are used up: a lone `1` is not a second pause.
        assert_eq!(m.digit(ms(400), '1'), None);
        assert_eq!(m.digit(ms(500), '*'), None);
        assert_eq!(m.digit(ms(600), '2'), Some(CodeAction::Resume));
    }

    #[test]
    fn digits_too_far_apart_are_no_code() {
        let t0 = Instant::now();
        let mut m = matcher();
        assert_eq!(m.digit(t0, '*'), None);
        assert_eq!(m.digit(t0 + Duration::from_secs(4), '1'), None);
        assert_eq!(m.digit(t0 + Duration::from_secs(5), '*'), None);
        assert_eq!(
            m.digit(t0 + Duration::from_secs(7), '1'),
            Some(CodeAction::Pause)
        );
    }

    #[test]
    fn without_codes_nothing_matches() {
        let mut m = CodeMatcher::new(None, None);
        let t0 = Instant::now();
        assert_eq!(m.digit(t0, '*'), None);
        assert_eq!(m.digit(t0, '1'), None);
    }
}
