//! The callback offer while a caller waits: when the queue offers a callback (its or the
//! dialplan node's `callback_offer` wait, or a relaxation step `offer_callback`), the music on
//! hold pauses for `callback_offer` ("To keep your place in the queue and be called back, press
//! 1."), never over a queue announcement nor while an agent's phone rings for the call, and
//! the music resumes after it. The offer comes again at the announcements' rhythm (their
//! `every`; [`REPEAT_WITHOUT_ANNOUNCEMENTS`] for a queue without them), [`MAX_OFFERS`] times
//! in all.
//!
//! Pressing 1 once the offer was heard accepts it; other keys are ignored while queued. The
//! number to call back is the caller's own in E.164 (the dialplan's country); a withheld or
//! unusable one (From user `anonymous`, empty or no phone number, or `Privacy: id`) is asked
//! for first (see [`super::callback_number`]). The routing task then turns the entry into a
//! callback at its place (`callback.converted` keeps the original entry time), the caller
//! hears `callback_accepted` and hotline hangs up (`call.ended` reason `callback_requested`,
//! neither answered nor abandoned). A caller who gives no usable number stays in the queue.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hotline_dialplan::{CountryCode, SayLanguage};
use hotline_events::{EndReason, EventDraft, EventKind, HungUpBy};
use hotline_media::prompt::Prompt;
use hotline_media::PlayMode;
use hotline_sip::message::Request;

use super::callback_number::{EntryLimits, EntryStep, NumberEntry};
use super::{Call, Phase};
use crate::router_task::RouteSignal;

/// The offer: "To keep your place in the queue and be called back, press 1."
pub(super) const OFFER: &str = "callback_offer";
/// After the queue took the callback: "Thank you. We will call you back in your turn. Goodbye."
pub(super) const ACCEPTED: &str = "callback_accepted";
/// Every prompt the offer may play (besides the digits `num_0`..`num_9`).
pub const PROMPTS: [&str; 6] = [
    OFFER,
    ACCEPTED,
    super::callback_number::ASK,
    super::callback_number::ENTERED,
    super::callback_number::CONFIRM,
    super::callback_number::INVALID,
];
/// The note the callback entry carries.
const NOTE: &str = "in-queue offer";
/// How often the offer comes again in a queue without announcements.
pub(super) const REPEAT_WITHOUT_ANNOUNCEMENTS: Duration = Duration::from_secs(45);
/// How many times a caller hears the offer at most.
pub(super) const MAX_OFFERS: u32 = 3;
/// How soon a held-back offer looks again whether the announcement or the ringing is over.
const HOLD_BACK: Duration = Duration::from_millis(500);

/// Where the offer stands for one call.
#[derive(Debug, Default)]
enum OfferState {
    /// The queue has offered nothing (yet).
    #[default]
    NotOffered,
    /// The offer waits for an announcement or a ringing phone; looked at again at `check_at`.
    HeldBack { check_at: Instant },
    /// The offer plays; 1 interrupts it.
    Playing,
    /// Heard; 1 accepts. The offer comes again at `repeat_at`, if ever.
    Heard { repeat_at: Option<Instant> },
    /// The caller accepted and types the number to call back.
    Entering(NumberEntry),
    /// The routing task turns the entry into a callback.
    Converting,
    /// The entry is a callback; `callback_accepted` plays, then hotline hangs up.
    Converted,
    /// The caller gave no usable number: no more offers, the caller waits on.
    GaveUp,
}

/// One waiting call's callback offer.
#[derive(Debug, Default)]
pub(super) struct CallbackOffer {
    state: OfferState,
    /// The call's language (`None`: the server's).
    language: Option<String>,
    /// The dialplan's country, for the caller's number in E.164.
    country: CountryCode,
    /// Offers heard so far.
    offers: u32,
    /// The prompts still to play after the one playing; `Some` while the offer plays its own.
    words: Option<VecDeque<String>>,
}

impl CallbackOffer {
    /// The offer of a call queued with `language`, in a dialplan of `country`.
    pub(super) fn new(language: Option<String>, country: CountryCode) -> Self {
        CallbackOffer {
            language,
            country,
            ..CallbackOffer::default()
        }
    }
}

/// The caller's own number in E.164, when it is one hotline may call back: not withheld
/// (`anonymous`, `Privacy: id`), and a phone number in `country`'s numbering plan. `user` is
/// the caller's number as the call decided it (a trunk's P-Asserted-Identity, else From).
pub(super) fn callers_number(invite: &Request, user: &str, country: CountryCode) -> Option<String> {
    let withheld = invite.headers().get_all("Privacy").any(|value| {
        value
            .split(';')
            .any(|token| token.trim().eq_ignore_ascii_case("id"))
    });
    if withheld {
        return None;
    }
    if user.trim().is_empty() || user.eq_ignore_ascii_case("anonymous") {
        return None;
    }
    hotline_dialplan::normalize(user, country).ok()
}

impl Call {
    /// The routing task's word about the offer.
    pub(super) fn callback_signal(&mut self, signal: RouteSignal) {
        if !matches!(self.phase, Phase::Queued { .. }) {
            return;
        }
        let now = Instant::now();
        match signal {
            RouteSignal::CallbackOffered => {
                if matches!(self.callback.state, OfferState::NotOffered) {
                    tracing::info!("callback offered");
                    self.callback.state = OfferState::HeldBack { check_at: now };
                    self.callback_offer_now(now);
                }
            }
            RouteSignal::CallbackConverted => {
                tracing::info!("the queue entry is a callback now");
                self.callback.state = OfferState::Converted;
                self.announcer = None;
                self.callback_play(vec![ACCEPTED.to_owned()]);
            }
            RouteSignal::CallbackRefused => {
                if matches!(self.callback.state, OfferState::Converting) {
                    // The caller waits on and may press 1 again once the phone stops ringing.
                    self.callback.state = OfferState::Heard { repeat_at: None };
                }
            }
            _ => {}
        }
    }

    /// Whether the offer has the caller's ear (announcements wait meanwhile).
    pub(super) fn callback_busy(&self) -> bool {
        matches!(
            self.callback.state,
            OfferState::Playing
                | OfferState::Entering(_)
                | OfferState::Converting
                | OfferState::Converted
        )
    }

    /// Whether the call became a callback: the caller's hang-up is no abandon.
    pub(super) fn callback_converted(&self) -> bool {
        matches!(self.callback.state, OfferState::Converted)
    }

    /// When the offer must be woken.
    pub(super) fn callback_deadline(&self) -> Option<Instant> {
        if !matches!(self.phase, Phase::Queued { .. }) {
            return None;
        }
        match &self.callback.state {
            OfferState::HeldBack { check_at } => Some(*check_at),
            OfferState::Heard { repeat_at } => *repeat_at,
            // The entry's own waits run once its prompts are over.
            OfferState::Entering(entry) if self.callback.words.is_none() => entry.poll_timeout(),
            _ => None,
        }
    }

    /// The offer's deadline passed.
    pub(super) fn callback_timer(&mut self) {
        let now = Instant::now();
        match &mut self.callback.state {
            OfferState::HeldBack { .. } => self.callback_offer_now(now),
            OfferState::Heard { repeat_at } => {
                *repeat_at = None;
                self.callback.state = OfferState::HeldBack { check_at: now };
                self.callback_offer_now(now);
            }
            OfferState::Entering(entry) => {
                entry.handle_timeout(now);
                self.callback_entry_steps();
            }
            _ => {}
        }
    }

    /// A key while queued: true when the offer took it (every key while queued: 1 accepts
    /// the offer once heard, the others are ignored).
    pub(super) fn callback_digit(&mut self, digit: char) -> bool {
        if !matches!(self.phase, Phase::Queued { .. }) {
            return false;
        }
        let now = Instant::now();
        match &mut self.callback.state {
            OfferState::Playing | OfferState::Heard { .. } if digit == '1' => {
                self.callback_accept()
            }
            OfferState::Entering(entry) => {
                entry.handle_digit(now, digit);
                self.callback_entry_steps();
            }
            _ => tracing::debug!(%digit, "key ignored while queued"),
        }
        true
    }

    /// A prompt finished on the caller's leg: true when it was the offer's.
    pub(super) fn callback_playback_finished(&mut self) -> bool {
        if self.callback.words.is_none() {
            return false;
        }
        if !matches!(self.phase, Phase::Queued { .. }) {
            self.callback.words = None;
            return false;
        }
        self.callback_next_word();
        true
    }

    /// Plays the offer unless an announcement or a ringing phone holds it back.
    fn callback_offer_now(&mut self, now: Instant) {
        let ringing = !self.ringing.is_empty() || self.agent.is_some();
        if ringing || self.announcing() {
            self.callback.state = OfferState::HeldBack {
                check_at: now + HOLD_BACK,
            };
            return;
        }
        if self.callback.offers >= MAX_OFFERS {
            self.callback.state = OfferState::Heard { repeat_at: None };
            return;
        }
        self.callback.offers += 1;
        self.callback.state = OfferState::Playing;
        self.callback_play(vec![OFFER.to_owned()]);
    }

    /// The caller pressed 1: the callback goes to their own number, or they type one.
    fn callback_accept(&mut self) {
        tracing::info!("caller accepted the callback offer");
        self.announce_interrupt();
        self.callback.words = None;
        if let Some(m) = &self.caller.media {
            let _ = m.stop_playback();
        }
        match callers_number(
            &self.caller.invite,
            &self.caller_number(),
            self.callback.country,
        ) {
            Some(number) => self.callback_convert(&number, false),
            None => {
                let language = SayLanguage::of(Some(self.callback_language()));
                let entry =
                    NumberEntry::start(EntryLimits::default(), self.callback.country, language);
                self.callback.state = OfferState::Entering(entry);
                self.callback_entry_steps();
            }
        }
    }

    /// Asks the routing task to turn the entry into a callback to `number`.
    fn callback_convert(&mut self, number: &str, number_entered: bool) {
        self.emit(EventDraft::new(EventKind::CallbackAccepted {
            number_entered,
        }));
        self.shared
            .router
            .convert_to_callback(self.id, number, NOTE);
        self.callback.state = OfferState::Converting;
        self.callback_resume_music();
    }

    /// Carries out what the number entry asks for.
    fn callback_entry_steps(&mut self) {
        loop {
            let OfferState::Entering(entry) = &mut self.callback.state else {
                return;
            };
            let Some(step) = entry.poll_step() else {
                return;
            };
            match step {
                EntryStep::Play(words) => self.callback_play(words),
                EntryStep::StopPlayback => {
                    self.callback.words = None;
                    if let Some(m) = &self.caller.media {
                        let _ = m.stop_playback();
                    }
                }
                EntryStep::Confirmed(number) => self.callback_convert(&number, true),
                EntryStep::GaveUp => {
                    tracing::info!("no usable callback number: the caller waits on");
                    self.callback.state = OfferState::GaveUp;
                    self.callback.words = None;
                    self.callback_resume_music();
                }
            }
        }
    }

    /// Plays `words` one after the other (replacing the music).
    fn callback_play(&mut self, words: Vec<String>) {
        self.callback.words = Some(words.into());
        self.callback_next_word();
    }

    /// Plays the next word; when none is left, what comes after the prompts happens.
    fn callback_next_word(&mut self) {
        loop {
            let Some(word) = self.callback.words.as_mut().and_then(VecDeque::pop_front) else {
                self.callback.words = None;
                self.callback_prompts_over();
                return;
            };
            let language = self.callback.language.clone();
            match self.prompt_in(language.as_deref(), &word) {
                Some((prompt, played_in)) => {
                    if let Some(m) = &self.caller.media {
                        let _ = m.play(prompt, PlayMode::Once);
                    }
                    self.emit(EventDraft::new(EventKind::IvrPrompt {
                        prompt: word,
                        language: played_in,
                    }));
                    return;
                }
                None => tracing::warn!(prompt = %word, "callback prompt missing: skipped"),
            }
        }
    }

    /// The offer's prompts are over.
    fn callback_prompts_over(&mut self) {
        let now = Instant::now();
        match &mut self.callback.state {
            OfferState::Playing => {
                let repeat_at = (self.callback.offers < MAX_OFFERS).then(|| {
                    let every = self
                        .shared
                        .config
                        .queues
                        .get(self.callback_queue())
                        .and_then(|q| q.announce.as_ref())
                        .map_or(REPEAT_WITHOUT_ANNOUNCEMENTS, |a| a.every);
                    now + every
                });
                self.callback.state = OfferState::Heard { repeat_at };
                self.callback_resume_music();
            }
            OfferState::Entering(entry) => {
                entry.handle_playback_finished(now);
                self.callback_entry_steps();
            }
            OfferState::Converted => {
                tracing::info!("callback taken: hanging up");
                self.hang_up_all(EndReason::CallbackRequested, HungUpBy::System);
            }
            _ => self.callback_resume_music(),
        }
    }

    /// The queue's music on hold again.
    fn callback_resume_music(&self) {
        if self.announcing() {
            return;
        }
        let music = self.callback_music();
        if let Some(m) = &self.caller.media {
            let _ = m.play(music, PlayMode::Loop);
        }
    }

    /// The music on hold of the call's queue (its own, or the default).
    fn callback_music(&self) -> Arc<Prompt> {
        self.shared
            .config
            .queues
            .get(self.callback_queue())
            .and_then(|q| q.music_on_hold.as_deref())
            .and_then(|name| self.shared.prompts.get(name))
            .unwrap_or_else(|| self.shared.prompts.music_on_hold())
    }

    fn callback_queue(&self) -> &str {
        match &self.phase {
            Phase::Queued { queue } => queue,
            _ => "",
        }
    }

    /// The call's language, else the server's.
    fn callback_language(&self) -> &str {
        self.callback
            .language
            .as_deref()
            .unwrap_or(self.shared.config.language.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invite(from_user: &str, privacy: Option<&str>) -> Request {
        let privacy = privacy.map_or(String::new(), |p| format!("Privacy: {p}\r\n"));
        let text = format!(
            "INVITE sip:800@127.0.0.1 SIP/2.0\r\n\
             Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n\
             From: <sip:{from_user}@127.0.0.1>;tag=a\r\n\
             To: <sip:800@127.0.0.1>\r\n\
             Call-ID: c1\r\n\
             CSeq: 1 INVITE\r\n\
             {privacy}\
             Content-Length: 0\r\n\r\n"
        );
        match hotline_sip::message::parse(text.as_bytes()) {
            Ok(hotline_sip::message::Message::Request(r)) => r,
            other => panic!("not a request: {other:?}"),
        }
    }

    fn china() -> CountryCode {
        CountryCode::new(86).unwrap_or_default()
    }

    #[test]
    fn an_identified_caller_is_called_back_on_their_number_in_e164() {
        assert_eq!(
            callers_number(&invite("13800000000", None), "13800000000", china()).as_deref(),
            Some("+8613800000000")
        );
        assert_eq!(
            callers_number(&invite("+14155550100", None), "+14155550100", china()).as_deref(),
            Some("+14155550100")
        );
    }

    #[test]
    fn a_withheld_or_unusable_number_is_asked_for() {
        for user in ["anonymous", "Anonymous", "alice", "1001"] {
            assert_eq!(
                callers_number(&invite(user, None), user, china()),
                None,
                "{user}"
            );
        }
        assert_eq!(
            callers_number(&invite("13800000000", Some("id")), "13800000000", china()),
            None
        );
        assert_eq!(
            callers_number(
                &invite("13800000000", Some("header; id")),
                "13800000000",
                china()
            ),
            None
        );
        assert_eq!(
            callers_number(&invite("13800000000", Some("none")), "13800000000", china()).as_deref(),
            Some("+8613800000000")
        );
    }
}
