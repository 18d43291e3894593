//! Agents' skills across a restart.
//!
//! The rule: the skills in force are the configuration file's, unless they were replaced
//! through the API (`agent.skills_changed`) after the file last set them. The file sets them
//! (`agent.skills_configured`) at the first start, at any start where the file's skills of
//! the agent differ from the ones last journaled, and at a reload that changes them. So at
//! start an agent whose file skills are the ones last journaled gets the API's last skills
//! back, and one whose file skills changed while hotline was stopped runs with the file's.
//! A journal from before `agent.skills_configured` existed has no record of the file's
//! skills: the file's stand and are journaled.

use std::collections::BTreeMap;

use hotline_events::{Event, EventDraft, EventKind, EventSink};
use serde::{Deserialize, Serialize};

use super::RecoveryState;
use crate::config::Config;
use crate::router_task::RouterHandle;

/// Proficiency 1-10 per skill name.
pub type Skills = BTreeMap<String, u8>;

/// One agent's skills as the journal tells them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournaledSkills {
    /// The file's skills last journaled (`agent.skills_configured`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configured: Option<Skills>,
    /// The last skills set through the API since then (`agent.skills_changed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<Skills>,
}

/// What a start does about one agent's skills.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkillsAtStart {
    /// The file's skills are not the ones last journaled: they stand, and are journaled.
    Configured(Skills),
    /// The file has not changed them since the API last did: the API's are set again.
    Api(Skills),
}

impl RecoveryState {
    /// Follows the skills events: the file's replace any the API set before them.
    pub(super) fn apply_skills(&mut self, event: &Event) {
        let Some(agent) = &event.agent_id else {
            return;
        };
        match &event.kind {
            EventKind::AgentSkillsConfigured { skills } => {
                self.skills.insert(
                    agent.clone(),
                    JournaledSkills {
                        configured: Some(skills.clone()),
                        api: None,
                    },
                );
            }
            EventKind::AgentSkillsChanged { skills } => {
                self.skills.entry(agent.clone()).or_default().api = Some(skills.clone());
            }
            _ => {}
        }
    }

    /// For each agent of `config` whose skills need an action at start, which one (agents
    /// already running with the right skills are left out).
    pub fn skills_at_start(&self, config: &Config) -> BTreeMap<String, SkillsAtStart> {
        let mut out = BTreeMap::new();
        for (agent, settings) in &config.agents {
            let journaled = self.skills.get(agent);
            let configured = journaled.and_then(|j| j.configured.as_ref());
            if configured != Some(&settings.skills) {
                out.insert(
                    agent.clone(),
                    SkillsAtStart::Configured(settings.skills.clone()),
                );
            } else if let Some(api) = journaled.and_then(|j| j.api.as_ref()) {
                if *api != settings.skills {
                    out.insert(agent.clone(), SkillsAtStart::Api(api.clone()));
                }
            }
        }
        out
    }

    /// Journals the file's skills where they changed and sets the API's skills again where
    /// the file kept them (see the module rule); returns how many agents got the API's back.
    /// Runs before any call is routed.
    pub async fn restore_skills(
        &self,
        config: &Config,
        sink: &EventSink,
        router: &RouterHandle,
    ) -> usize {
        let mut restored = 0;
        for (agent, action) in self.skills_at_start(config) {
            match action {
                SkillsAtStart::Configured(skills) => {
                    sink.emit(
                        EventDraft::new(EventKind::AgentSkillsConfigured { skills }).agent(agent),
                    );
                }
                SkillsAtStart::Api(skills) => {
                    match router.set_skills(agent.clone(), skills.clone()).await {
                        Some(Ok(_)) => {
                            tracing::info!(agent, ?skills, "skills set through the API restored");
                            restored += 1;
                        }
                        Some(Err(err)) => {
                            tracing::warn!(agent, ?err, "skills set through the API not restored");
                        }
                        None => return restored,
                    }
                }
            }
        }
        restored
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_events::Timestamp;
    use std::path::Path;
    use uuid::Uuid;

    fn skills(pairs: &[(&str, u8)]) -> Skills {
        pairs.iter().map(|(s, p)| (s.to_string(), *p)).collect()
    }

    fn event(seq: u64, agent: &str, kind: EventKind) -> Event {
        EventDraft::new(kind)
            .agent(agent)
            .into_event(Uuid::now_v7(), seq, Timestamp::now(), "n")
    }

    fn configured(seq: u64, agent: &str, s: Skills) -> Event {
        event(seq, agent, EventKind::AgentSkillsConfigured { skills: s })
    }

    fn changed(seq: u64, agent: &str, s: Skills) -> Event {
        event(seq, agent, EventKind::AgentSkillsChanged { skills: s })
    }

    /// The bundled config: 1001 english 8, 1002 english 6 + french 7, 1003 billing 9,
    /// 1004 billing 5.
    fn bundled() -> Config {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/hotline.yaml");
        Config::parse(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn state(events: &[Event]) -> RecoveryState {
        let mut s = RecoveryState::default();
        for e in events {
            s.apply(e);
        }
        s
    }

    #[test]
    fn a_first_start_journals_every_agents_file_skills() {
        let config = bundled();
        let actions = RecoveryState::default().skills_at_start(&config);
        assert_eq!(actions.len(), config.agents.len());
        assert_eq!(
            actions["1002"],
            SkillsAtStart::Configured(skills(&[("english", 6), ("french", 7)]))
        );
    }

    #[test]
    fn the_apis_last_skills_come_back_when_the_file_kept_its_own() {
        let config = bundled();
        let s = state(&[
            configured(1, "1001", skills(&[("english", 8)])),
            configured(2, "1003", skills(&[("billing", 9)])),
            changed(3, "1001", skills(&[("french", 2)])),
            changed(4, "1001", skills(&[("billing", 7)])),
        ]);
        let actions = s.skills_at_start(&config);
        assert_eq!(
            actions.get("1001"),
            Some(&SkillsAtStart::Api(skills(&[("billing", 7)])))
        );
        // 1003 runs with the file's already; 1002 and 1004 were never journaled.
        assert_eq!(actions.get("1003"), None);
        assert!(matches!(
            actions.get("1002"),
            Some(SkillsAtStart::Configured(_))
        ));
    }

    #[test]
    fn skills_the_file_set_after_the_api_win() {
        let config = bundled();
        // A reload set english 8 after the API's change: the API's is gone.
        let s = state(&[
            configured(1, "1001", skills(&[("english", 5)])),
            changed(2, "1001", skills(&[("billing", 7)])),
            configured(3, "1001", skills(&[("english", 8)])),
        ]);
        assert_eq!(s.skills_at_start(&config).get("1001"), None);
        // The API changed them again after that reload: back they come.
        let s = state(&[
            configured(1, "1001", skills(&[("english", 8)])),
            changed(2, "1001", skills(&[("billing", 7)])),
            configured(3, "1001", skills(&[("english", 8)])),
            changed(4, "1001", skills(&[("german", 4)])),
        ]);
        assert_eq!(
            s.skills_at_start(&config).get("1001"),
            Some(&SkillsAtStart::Api(skills(&[("german", 4)])))
        );
    }

    #[test]
    fn a_file_changed_while_stopped_replaces_the_apis_skills() {
        // Journaled english 5, the API set billing 7, then the file was edited to english 8
        // while hotline was stopped.
        let s = state(&[
            configured(1, "1001", skills(&[("english", 5)])),
            changed(2, "1001", skills(&[("billing", 7)])),
        ]);
        assert_eq!(
            s.skills_at_start(&bundled()).get("1001"),
            Some(&SkillsAtStart::Configured(skills(&[("english", 8)])))
        );
    }

    #[test]
    fn skills_survive_a_snapshot_and_old_snapshots_load() {
        let dir = tempfile::tempdir().unwrap();
        let events = [
            configured(1, "1001", skills(&[("english", 8)])),
            changed(2, "1001", skills(&[("billing", 7)])),
        ];
        let text: String = events
            .iter()
            .map(|e| format!("{}\n", serde_json::to_string(e).unwrap()))
            .collect();
        std::fs::write(dir.path().join("events.jsonl"), text).unwrap();
        let s = state(&events);
        s.save(dir.path()).unwrap();
        assert_eq!(RecoveryState::load(dir.path()).unwrap(), s);
        let old = serde_json::json!({"open_calls": {}, "not_ready": {}, "seq": 3});
        let old: RecoveryState = serde_json::from_value(old).unwrap();
        assert!(old.skills.is_empty());
    }
}
