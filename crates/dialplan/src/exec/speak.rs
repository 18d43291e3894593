//! The executor's side of a `say` node with `kind: text`: the text asked of the server's speech
//! synthesizer, waited for like a prompt.

use std::time::Instant;

use super::{Ivr, IvrAction, IvrTimer, State};
use crate::model::Say;

impl Ivr {
    /// Asks for the node's text to be spoken; false (the node is skipped) when its value is
    /// empty once its variables are filled in.
    pub(super) fn speak(&mut self, now: Instant, say: &Say) -> bool {
        let text = self.attributes.interpolate(&say.value);
        let text = text.trim();
        if text.is_empty() {
            return false;
        }
        self.actions.push_back(IvrAction::Speak {
            text: text.to_owned(),
            language: self.attributes.language.clone(),
        });
        self.timer = Some((now + Self::PLAYBACK_GUARD, IvrTimer::PlaybackGuard));
        // No words of its own: the end of the speech leads to `next`, keys are dropped.
        self.state = State::Saying {
            words: Vec::new(),
            index: 0,
        };
        true
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, Instant, SystemTime};

    use crate::{CallInfo, Dialplan, Ivr, IvrAction, IvrInput, ValidationContext};

    const PLAN: &str = "version: 1\nnumbers:\n  \"1\":\n    start: zh\n    nodes:\n      zh: { set: { language: zh-CN, variables: { name: \"  李娜 \" } }, next: greet }\n      greet: { say: { value: \"${name}\", kind: text }, next: empty }\n      empty: { say: { value: \"${nobody}\", kind: text }, next: bye }\n      bye: { hangup: true }\n";

    fn start() -> (Ivr, Instant) {
        let plan = Dialplan::parse(PLAN, "p.yaml", &ValidationContext::default()).unwrap();
        let now = Instant::now();
        let call = CallInfo::new("1", "+8613800000000", SystemTime::now());
        (Ivr::start(Arc::new(plan), call, now).unwrap(), now)
    }

    fn drain(ivr: &mut Ivr) -> Vec<IvrAction> {
        std::iter::from_fn(|| ivr.poll_action()).collect()
    }

    #[test]
    fn text_is_spoken_in_the_call_language_then_an_empty_one_is_skipped() {
        let (mut ivr, now) = start();
        assert_eq!(
            drain(&mut ivr),
            [
                IvrAction::Answer,
                IvrAction::Speak {
                    text: "李娜".into(),
                    language: Some("zh-CN".into()),
                }
            ]
        );
        // Keys during the speech are dropped; its end goes on, past the empty text.
        ivr.handle(now, IvrInput::Digit('1'));
        assert!(matches!(
            drain(&mut ivr)[..],
            [IvrAction::DigitIgnored { digit: '1', .. }]
        ));
        ivr.handle(now, IvrInput::PlaybackFinished);
        assert!(matches!(drain(&mut ivr)[..], [IvrAction::Hangup { .. }]));
        assert!(ivr.is_finished());
    }

    #[test]
    fn a_speech_never_reported_finished_is_given_up() {
        let (mut ivr, now) = start();
        drain(&mut ivr);
        let deadline = ivr.poll_timeout().unwrap();
        assert_eq!(deadline, now + Ivr::PLAYBACK_GUARD);
        ivr.handle_timeout(deadline + Duration::from_millis(1));
        assert!(matches!(
            drain(&mut ivr)[..],
            [IvrAction::StopPlayback, IvrAction::Hangup { .. }]
        ));
    }

    #[test]
    fn hanging_up_during_the_speech_stops_it() {
        let (mut ivr, now) = start();
        drain(&mut ivr);
        ivr.handle(now, IvrInput::Hangup);
        assert_eq!(drain(&mut ivr), [IvrAction::StopPlayback]);
        assert!(ivr.is_finished());
    }
}
