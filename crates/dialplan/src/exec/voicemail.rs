//! The `voicemail` node: its prompts, the beep, then recording until the caller presses the end
//! key, goes silent, reaches the longest message or hangs up.

use std::time::Instant;

use super::{Ivr, IvrAction, IvrTimer, RecordingEnd, State};
use crate::model::{NodeKind, Voicemail, BEEP_PROMPT};

impl Ivr {
    fn current_voicemail(&self) -> Option<Voicemail> {
        match self.current()?.kind {
            NodeKind::Voicemail(voicemail) => Some(voicemail),
            _ => None,
        }
    }

    /// Plays the node's prompt at `index` (the beep after the last), else starts recording.
    pub(super) fn voicemail_prompt(&mut self, now: Instant, voicemail: &Voicemail, index: usize) {
        let prompt = match index.cmp(&voicemail.prompts.len()) {
            std::cmp::Ordering::Less => voicemail.prompts[index].as_str(),
            std::cmp::Ordering::Equal => BEEP_PROMPT,
            std::cmp::Ordering::Greater => return self.start_recording(now, voicemail),
        };
        self.play(now, prompt, false);
        self.state = State::VoicemailPrompt { index };
    }

    pub(super) fn voicemail_prompt_finished(&mut self, now: Instant, index: usize) {
        let Some(voicemail) = self.current_voicemail() else {
            return self.broken();
        };
        self.voicemail_prompt(now, &voicemail, index + 1);
    }

    fn start_recording(&mut self, now: Instant, voicemail: &Voicemail) {
        self.actions.push_back(IvrAction::Record {
            node: self.node.clone(),
            mailbox: voicemail.mailbox.clone(),
            silence: voicemail.silence,
        });
        self.timer = Some((now + voicemail.max_length, IvrTimer::RecordLimit));
        self.state = State::Recording;
    }

    /// A key while recording: the end key ends the message; any other is part of it.
    pub(super) fn recording_digit(&mut self, now: Instant, digit: char) {
        let end_key = self.current_voicemail().and_then(|v| v.end_key);
        if end_key == Some(digit) {
            self.stop_recording(now, RecordingEnd::EndKey);
        } else {
            self.actions.push_back(IvrAction::DigitIgnored {
                digit,
                node: self.node.clone(),
            });
        }
    }

    /// Ends the recording (when one runs) and goes on to the node's `next`.
    pub(super) fn stop_recording(&mut self, now: Instant, reason: RecordingEnd) {
        if self.state != State::Recording {
            return;
        }
        let Some(voicemail) = self.current_voicemail() else {
            return self.broken();
        };
        self.actions.push_back(IvrAction::StopRecording { reason });
        self.goto(now, voicemail.next);
    }
}
