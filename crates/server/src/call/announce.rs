//! Queue announcements: while a caller waits, every `every` the music on hold pauses for their
//! position and estimated wait (from the routing core, spoken by `say` in the call's language)
//! and the next periodic message in rotation; then the music resumes. Nothing here holds up an
//! offer: the agent's phone rings meanwhile, no announcement starts while one rings, and the
//! bridge on answer stops whatever plays.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use hotline_dialplan::say::{self, SayLanguage};
use hotline_events::{EventDraft, EventKind};
use hotline_media::prompt::Prompt;
use hotline_media::PlayMode;
use serde::Deserialize;
use tokio::sync::oneshot;

use super::{Call, Phase};
use crate::router_task::Standing;

/// Shortest accepted interval between announcements.
const MIN_EVERY: Duration = Duration::from_secs(1);

/// A queue's announcements (`announce:` in its settings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueAnnounce {
    /// How often; the first comes this long after the caller entered the queue.
    pub every: Duration,
    /// Whether the caller hears their position.
    pub position: bool,
    /// Whether the caller hears the estimated wait.
    pub estimated_wait: bool,
    /// Prompts played one per announcement, in rotation.
    pub messages: Vec<String>,
}

/// `announce:` as written in the configuration file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAnnounce {
    every: String,
    #[serde(default)]
    position: bool,
    #[serde(default)]
    estimated_wait: bool,
    #[serde(default)]
    messages: Vec<String>,
}

impl QueueAnnounce {
    /// Checks the settings as written.
    pub fn parse(raw: RawAnnounce) -> anyhow::Result<QueueAnnounce> {
        let every = crate::config::parse_duration(&raw.every).context("every")?;
        if every < MIN_EVERY {
            bail!("every: at least 1s between announcements");
        }
        if !raw.position && !raw.estimated_wait && raw.messages.is_empty() {
            bail!("announces nothing: set position, estimated_wait or messages");
        }
        Ok(QueueAnnounce {
            every,
            position: raw.position,
            estimated_wait: raw.estimated_wait,
            messages: raw.messages,
        })
    }

    /// The prompt names of the announcement after `made` earlier ones, for a caller standing
    /// at `standing` (`None`: the router no longer has them waiting: the message alone).
    pub fn words(
        &self,
        standing: Option<Standing>,
        made: usize,
        language: SayLanguage,
    ) -> Vec<String> {
        let mut words = Vec::new();
        if let Some(standing) = standing {
            if self.position {
                let position = u64::try_from(standing.position).unwrap_or(u64::MAX);
                words.extend(say::position(position, language).unwrap_or_default());
            }
            if let (true, Some(wait)) = (self.estimated_wait, standing.estimated_wait) {
                words.push("estimated_wait".to_owned());
                words.extend(say::duration(wait, language));
            }
        }
        if !self.messages.is_empty() {
            words.push(self.messages[made % self.messages.len()].clone());
        }
        words
    }

    /// Every prompt an announcement may play in `language` (the default one is checked at start).
    pub fn prompts(&self, language: SayLanguage) -> Vec<String> {
        let mut names: Vec<String> = self.messages.clone();
        if self.estimated_wait {
            names.push("estimated_wait".to_owned());
            names.extend(
                say::vocabulary_in(hotline_dialplan::SayKind::Duration, language)
                    .into_iter()
                    .map(str::to_owned),
            );
        }
        if self.position {
            names.extend(
                say::vocabulary_in(hotline_dialplan::SayKind::Position, language)
                    .into_iter()
                    .map(str::to_owned),
            );
        }
        names
    }
}

/// One waiting call's announcements.
pub(super) struct Announcer {
    settings: QueueAnnounce,
    /// The call's language (`set` in the dialplan), `None`: the default.
    language: Option<String>,
    /// The music the announcements interrupt.
    music: Arc<Prompt>,
    /// When the next announcement is due; `None` while one is asked for or playing.
    next_at: Option<Instant>,
    /// The routing task's answer about the caller's standing, while awaited.
    pub(super) asking: Option<oneshot::Receiver<Option<Standing>>>,
    /// The words still to play after the one playing now; playing while `Some`.
    playing: Option<VecDeque<String>>,
    /// Announcements made so far (the periodic message rotates with it).
    made: usize,
}

impl Call {
    /// Starts the queue's music on hold (its own, or the default) and, when the queue has
    /// them, the announcements.
    pub(super) fn start_queue_media(&mut self, queue: &str, language: Option<String>) {
        let settings = self.shared.config.queues.get(queue);
        let music = settings
            .and_then(|q| q.music_on_hold.as_deref())
            .and_then(|name| self.shared.prompts.get(name))
            .unwrap_or_else(|| self.shared.prompts.music_on_hold());
        if let Some(m) = &self.caller.media {
            let _ = m.play(music.clone(), PlayMode::Loop);
        }
        self.announcer = settings
            .and_then(|q| q.announce.clone())
            .map(|settings| Announcer {
                next_at: Some(Instant::now() + settings.every),
                settings,
                language,
                music,
                asking: None,
                playing: None,
                made: 0,
            });
    }

    /// When the next announcement is due.
    pub(super) fn announce_deadline(&self) -> Option<Instant> {
        self.announcer.as_ref().and_then(|a| a.next_at)
    }

    /// An announcement is due: ask the routing task where the caller stands, unless an agent's
    /// phone rings (then the announcement waits a round).
    pub(super) fn announce_due(&mut self) {
        // The callback offer (or the caller typing a number) holds the announcement back too.
        let offered = !self.ringing.is_empty() || self.agent.is_some() || self.callback_busy();
        let queued = matches!(self.phase, Phase::Queued { .. });
        let Some(announcer) = self.announcer.as_mut() else {
            return;
        };
        if !queued {
            self.announcer = None;
            return;
        }
        if offered {
            announcer.next_at = Some(Instant::now() + announcer.settings.every);
            return;
        }
        announcer.next_at = None;
        announcer.asking = Some(self.shared.router.standing(self.id));
    }

    /// The routing task said where the caller stands: the announcement starts.
    pub(super) fn announce_standing(&mut self, standing: Option<Standing>) {
        let offered = !self.ringing.is_empty() || self.agent.is_some() || self.callback_busy();
        let Some(announcer) = self.announcer.as_mut() else {
            return;
        };
        announcer.asking = None;
        if offered || !matches!(self.phase, Phase::Queued { .. }) {
            announcer.next_at = Some(Instant::now() + announcer.settings.every);
            return;
        }
        // Without a language of its own the call speaks the server's.
        let default = self.shared.config.language.as_str();
        let language = SayLanguage::of(Some(announcer.language.as_deref().unwrap_or(default)));
        let words = announcer.settings.words(standing, announcer.made, language);
        announcer.made += 1;
        announcer.playing = Some(words.into());
        self.announce_next_word();
    }

    /// Whether an announcement is asked for or playing.
    pub(super) fn announcing(&self) -> bool {
        self.announcer
            .as_ref()
            .is_some_and(|a| a.asking.is_some() || a.playing.is_some())
    }

    /// Drops the announcement playing (the caller accepted a callback); the next one comes a
    /// full interval later.
    pub(super) fn announce_interrupt(&mut self) {
        if let Some(announcer) = self.announcer.as_mut() {
            if announcer.playing.take().is_some() {
                announcer.next_at = Some(Instant::now() + announcer.settings.every);
            }
        }
    }

    /// A prompt finished on the caller's leg: the announcement goes on. False when no
    /// announcement is playing (the prompt was someone else's).
    pub(super) fn announce_playback_finished(&mut self) -> bool {
        if self.announcer.as_ref().is_some_and(|a| a.playing.is_some()) {
            self.announce_next_word();
            true
        } else {
            false
        }
    }

    /// Plays the next word of the announcement, or resumes the music when none is left.
    fn announce_next_word(&mut self) {
        // Bridged, or back in the dialplan: the announcement is over for good.
        if !matches!(self.phase, Phase::Queued { .. }) {
            self.announcer = None;
            return;
        }
        loop {
            let Some(announcer) = self.announcer.as_mut() else {
                return;
            };
            let next = announcer.playing.as_mut().and_then(VecDeque::pop_front);
            let Some(word) = next else {
                announcer.playing = None;
                announcer.next_at = Some(Instant::now() + announcer.settings.every);
                let music = announcer.music.clone();
                if let Some(m) = &self.caller.media {
                    let _ = m.play(music, PlayMode::Loop);
                }
                return;
            };
            let language = announcer.language.clone();
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
                None => tracing::warn!(prompt = %word, "announcement prompt missing: skipped"),
            }
        }
    }
}

/// The routing task's answer, when one is awaited; never otherwise.
pub(super) async fn recv_standing(
    reply: Option<&mut oneshot::Receiver<Option<Standing>>>,
) -> Option<Standing> {
    match reply {
        // A dropped sender (the routing task stopped) reads as "not waiting".
        Some(rx) => rx.await.ok().flatten(),
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn announce(position: bool, estimated_wait: bool, messages: &[&str]) -> QueueAnnounce {
        QueueAnnounce {
            every: Duration::from_secs(30),
            position,
            estimated_wait,
            messages: messages.iter().map(|m| (*m).to_owned()).collect(),
        }
    }

    #[test]
    fn an_announcement_says_position_then_wait_then_the_next_message() {
        let a = announce(true, true, &["queue_message", "please_hold"]);
        let standing = Some(Standing {
            position: 3,
            estimated_wait: Some(Duration::from_secs(150)),
        });
        assert_eq!(
            a.words(standing, 0, SayLanguage::English).join(" "),
            "position_prefix num_3 position_suffix estimated_wait about num_3 minutes queue_message"
        );
        assert_eq!(
            a.words(standing, 1, SayLanguage::Mandarin).join(" "),
            "position_prefix num_3 position_suffix estimated_wait about num_3 minutes please_hold"
        );
    }

    #[test]
    fn without_a_standing_only_the_message_is_played() {
        let a = announce(true, true, &["queue_message"]);
        assert_eq!(
            a.words(None, 5, SayLanguage::English),
            vec!["queue_message".to_owned()]
        );
        let no_estimate = Some(Standing {
            position: 1,
            estimated_wait: None,
        });
        assert_eq!(
            announce(false, true, &[]).words(no_estimate, 0, SayLanguage::English),
            Vec::<String>::new()
        );
    }

    fn config_with(announce: &str) -> anyhow::Result<crate::config::Config> {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/hotline.yaml");
        let text = std::fs::read_to_string(path)?;
        let from = "    strategy: longest_idle\n";
        assert!(text.contains(from), "bundled config changed");
        crate::config::Config::parse(
            &text.replace(from, &format!("{from}    music_on_hold: moh\n{announce}")),
        )
    }

    #[test]
    fn a_queue_s_announcements_are_read_from_the_config() {
        let config = config_with(
            "    announce: { every: 45s, position: true, messages: [queue_message] }\n",
        )
        .unwrap_or_else(|e| panic!("{e:#}"));
        let support = &config.queues["support"];
        assert_eq!(support.music_on_hold.as_deref(), Some("moh"));
        assert_eq!(
            support.announce,
            Some(QueueAnnounce {
                every: Duration::from_secs(45),
                position: true,
                estimated_wait: false,
                messages: vec!["queue_message".to_owned()],
            })
        );
        assert_eq!(config.queues["billing"].announce, None);
        let bad = config_with("    announce: { every: 30s }\n")
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default();
        assert!(bad.contains("queue support: announce"), "{bad}");
        let unknown = config_with("    announce: { every: 30s, positon: true }\n");
        assert!(unknown.is_err());
    }

    #[test]
    fn settings_that_announce_nothing_or_too_often_are_refused() {
        let raw = |every: &str, position: bool| RawAnnounce {
            every: every.to_owned(),
            position,
            estimated_wait: false,
            messages: Vec::new(),
        };
        assert!(QueueAnnounce::parse(raw("30s", true)).is_ok());
        assert!(QueueAnnounce::parse(raw("30s", false)).is_err());
        assert!(QueueAnnounce::parse(raw("500ms", true)).is_err());
    }
}
