//! Agent transitions: missed offers, wrap-up, the API's state requests, registrations.

use std::time::Instant;

use super::Router;
use crate::agent_state::{AgentState, NotReadyReason, RequestedState};
use crate::command::CommandError;
use crate::event::{RequeueReason, RevokeReason, RoutingEvent};
use crate::ids::AgentId;
use crate::skills::{Skills, MAX_PROFICIENCY, MIN_PROFICIENCY};
use crate::timers::TimerReason;

impl Router {
    /// Agent `a` missed an offer: not ready after its `max_missed` in a row, else ready again at
    /// the back of the idle line (or the not-ready state it asked for meanwhile).
    pub(super) fn missed(&mut self, now: Instant, a: usize) {
        let agent = &mut self.agents[a];
        agent.missed_in_row += 1;
        if agent.missed_in_row >= agent.max_missed {
            agent.missed_in_row = 0;
            agent.pending_not_ready = None;
            self.set_state(a, AgentState::NotReady(NotReadyReason::MissedOffer), now);
            return;
        }
        let to = match agent.pending_not_ready.take() {
            Some(reason) => AgentState::NotReady(reason),
            None => AgentState::Ready,
        };
        self.set_state(a, to, now);
    }

    /// Agent `a` finished a call of queue `q`: its own wrap-up, else the queue's.
    pub(super) fn after_call(&mut self, now: Instant, a: usize, q: usize) {
        if self.retire_if_removed(now, a) {
            return;
        }
        if self.agents[a].contacts == 0 {
            self.agents[a].pending_not_ready = None;
            self.set_state(a, AgentState::LoggedOut, now);
            return;
        }
        let wrap_up = self.agents[a]
            .wrap_up
            .unwrap_or(self.queues[q].config.wrap_up);
        if wrap_up.is_zero() {
            self.finish_wrap_up(now, a);
        } else {
            self.set_state(a, AgentState::WrapUp, now);
            let agent = self.agents[a].id.clone();
            self.timers
                .set(TimerReason::WrapUpEnd { agent }, now + wrap_up);
        }
    }

    pub(super) fn finish_wrap_up(&mut self, now: Instant, a: usize) {
        let to = match self.agents[a].pending_not_ready.take() {
            Some(reason) => AgentState::NotReady(reason),
            None => AgentState::Ready,
        };
        self.set_state(a, to, now);
    }

    pub(super) fn cancel_wrap_up(&mut self, a: usize) {
        let agent = self.agents[a].id.clone();
        self.timers.cancel(&TimerReason::WrapUpEnd { agent });
    }

    pub(super) fn set_requested(
        &mut self,
        now: Instant,
        agent: &AgentId,
        state: RequestedState,
    ) -> Result<(), CommandError> {
        let a = self.agent_idx(agent)?;
        if let RequestedState::NotReady(NotReadyReason::Manual(code)) = &state {
            if !self.not_ready_reasons.is_empty() && !self.not_ready_reasons.contains(code) {
                return Err(CommandError::UnknownReason(code.clone()));
            }
        }
        match self.agents[a].state {
            AgentState::LoggedOut => return Err(CommandError::AgentLoggedOut(agent.clone())),
            AgentState::Reserved | AgentState::Ringing | AgentState::OnCall => {
                self.agents[a].pending_not_ready = match state {
                    RequestedState::Ready => None,
                    RequestedState::NotReady(reason) => Some(reason),
                };
            }
            AgentState::Ready | AgentState::WrapUp | AgentState::NotReady(_) => {
                self.cancel_wrap_up(a);
                self.agents[a].pending_not_ready = None;
                self.set_state(a, state.into(), now);
            }
        }
        Ok(())
    }

    pub(super) fn contacts_changed(
        &mut self,
        now: Instant,
        agent: &AgentId,
        count: usize,
    ) -> Result<(), CommandError> {
        let a = self.agent_idx(agent)?;
        self.agents[a].contacts = count;
        if count > 0 {
            // A refresh never changes the state, so it never undoes a not-ready.
            if self.agents[a].state == AgentState::LoggedOut {
                self.set_state(a, AgentState::Ready, now);
            }
            return Ok(());
        }
        match self.agents[a].state {
            AgentState::LoggedOut => {}
            // Still bridged: logged out when the call ends (see `after_call`).
            AgentState::OnCall => {}
            AgentState::Reserved | AgentState::Ringing => {
                if let Some(call) = self.agents[a].call {
                    self.timers.cancel(&TimerReason::RingTimeout {
                        call,
                        agent: agent.clone(),
                    });
                    self.emit(RoutingEvent::OfferRevoked {
                        call,
                        agent: agent.clone(),
                        reason: RevokeReason::AgentLoggedOut,
                    });
                    self.requeue(call, a, RequeueReason::AgentLoggedOut);
                }
                self.agents[a].pending_not_ready = None;
                self.set_state(a, AgentState::LoggedOut, now);
            }
            AgentState::Ready | AgentState::WrapUp | AgentState::NotReady(_) => {
                self.cancel_wrap_up(a);
                self.agents[a].pending_not_ready = None;
                self.set_state(a, AgentState::LoggedOut, now);
            }
        }
        Ok(())
    }

    /// Replaces the skills of `agent` after checking every proficiency is 1-10. The dispatch
    /// that follows every command offers it the entries it now qualifies for.
    pub(super) fn set_skills(
        &mut self,
        agent: &AgentId,
        skills: Skills,
    ) -> Result<(), CommandError> {
        let a = self.agent_idx(agent)?;
        if let Some((skill, &proficiency)) = skills
            .iter()
            .find(|(_, p)| !(MIN_PROFICIENCY..=MAX_PROFICIENCY).contains(*p))
        {
            return Err(CommandError::InvalidProficiency {
                skill: skill.clone(),
                proficiency,
            });
        }
        self.agents[a].skills = skills;
        self.index.agent_changed(a, &self.agents[a].skills);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use crate::command::{Command, CommandError};
    use crate::config::{EnqueueOptions, QueueConfig, RouterConfig};
    use crate::event::RoutingEvent;
    use crate::ids::{AgentId, CallId, QueueId};
    use crate::router::Router;
    use crate::skills::{SkillId, SkillRequirement};

    fn router(now: Instant) -> Router {
        let config = RouterConfig {
            queues: vec![QueueConfig {
                id: QueueId::new("billing"),
                members: vec![AgentId::new("ann")],
                ring_timeout: Duration::from_secs(15),
                ..QueueConfig::default()
            }],
            agents: vec![AgentId::new("ann")],
            ..RouterConfig::default()
        };
        Router::new(config, now).unwrap()
    }

    fn offers(r: &mut Router) -> Vec<(CallId, AgentId)> {
        std::iter::from_fn(|| r.poll_event())
            .filter_map(|e| match e {
                RoutingEvent::CallOffered { call, agent, .. } => Some((call, agent)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn an_agent_gaining_the_required_skill_takes_the_waiting_entry() {
        let t0 = Instant::now();
        let mut r = router(t0);
        let ann = AgentId::new("ann");
        r.handle(
            t0,
            Command::ContactsChanged {
                agent: ann.clone(),
                count: 1,
            },
        )
        .unwrap();
        let options = EnqueueOptions {
            required: vec![SkillRequirement::new("billing", 5)],
            ..EnqueueOptions::default()
        };
        r.handle(
            t0,
            Command::EnqueueWith {
                call: CallId(1),
                queue: QueueId::new("billing"),
                options,
            },
        )
        .unwrap();
        assert!(offers(&mut r).is_empty(), "ann has no billing skill yet");

        // Too low a proficiency still does not qualify.
        let t1 = t0 + Duration::from_secs(1);
        let low = [(SkillId::new("billing"), 4)].into();
        r.handle(
            t1,
            Command::SetSkills {
                agent: ann.clone(),
                skills: low,
            },
        )
        .unwrap();
        assert!(offers(&mut r).is_empty());

        let t2 = t0 + Duration::from_secs(2);
        let skills = [(SkillId::new("billing"), 7)].into();
        r.handle(
            t2,
            Command::SetSkills {
                agent: ann.clone(),
                skills,
            },
        )
        .unwrap();
        assert_eq!(offers(&mut r), vec![(CallId(1), ann.clone())]);
        assert_eq!(r.agent(&ann).unwrap().skills[&SkillId::new("billing")], 7);
    }

    #[test]
    fn skills_outside_one_to_ten_and_unknown_agents_are_refused() {
        let t0 = Instant::now();
        let mut r = router(t0);
        let bad = [(SkillId::new("billing"), 11)].into();
        assert_eq!(
            r.handle(
                t0,
                Command::SetSkills {
                    agent: AgentId::new("ann"),
                    skills: bad
                }
            ),
            Err(CommandError::InvalidProficiency {
                skill: SkillId::new("billing"),
                proficiency: 11
            })
        );
        let zero = [(SkillId::new("billing"), 0)].into();
        assert!(r
            .handle(
                t0,
                Command::SetSkills {
                    agent: AgentId::new("ann"),
                    skills: zero
                }
            )
            .is_err());
        assert!(r.agent(&AgentId::new("ann")).unwrap().skills.is_empty());
        assert_eq!(
            r.handle(
                t0,
                Command::SetSkills {
                    agent: AgentId::new("zed"),
                    skills: Default::default()
                }
            ),
            Err(CommandError::UnknownAgent(AgentId::new("zed")))
        );
    }
}
