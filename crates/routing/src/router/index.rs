//! What the incremental dispatch keeps beside the queues and agents: the ready members of each
//! queue, the entries that overflowed into a queue, what changed since the last dispatch, and
//! each agent's running talk time.
//!
//! After every dispatch no waiting entry has a `Ready` agent qualified for it. Only an entry that
//! starts waiting or relaxes, or an agent that becomes ready or changes skills, can create such a
//! pair again, so the next dispatch looks at those alone (see `incremental.rs`).

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Deref;
use std::time::{Duration, Instant};

use super::dispatch::DEFAULT_TALK_WINDOW;
use super::needs::{Need, SkillNumbers};
use super::{Agent, LineKey, Queue, Router};
use crate::agent_state::AgentState;
use crate::config::EmptyRule;
use crate::ids::CallId;
use crate::skills::Skills;

/// The entries waiting without an offer, by entry order, remembering which started waiting since
/// the last dispatch: every path that makes an entry wait inserts it here, so none is missed.
#[derive(Debug, Default)]
pub(super) struct Unoffered {
    by_seq: BTreeMap<u64, CallId>,
    added: Vec<CallId>,
}

impl Unoffered {
    /// `call`, of entry order `seq`, waits without an offer.
    pub(super) fn insert(&mut self, seq: u64, call: CallId) -> Option<CallId> {
        self.added.push(call);
        self.by_seq.insert(seq, call)
    }

    /// The entry of order `seq` no longer waits without an offer.
    pub(super) fn remove(&mut self, seq: &u64) -> Option<CallId> {
        self.by_seq.remove(seq)
    }

    /// Moves the entries inserted since the last call, oldest first, to the end of `into`.
    pub(super) fn move_added_to(&mut self, into: &mut Vec<CallId>) {
        into.append(&mut self.added);
    }

    /// Whether `call` of entry order `seq` waits without an offer.
    pub(super) fn holds(&self, seq: u64, call: CallId) -> bool {
        self.by_seq.get(&seq) == Some(&call)
    }
}

impl Deref for Unoffered {
    type Target = BTreeMap<u64, CallId>;

    fn deref(&self) -> &Self::Target {
        &self.by_seq
    }
}

/// The indexes of the incremental dispatch.
#[derive(Debug, Default)]
pub(super) struct DispatchIndex {
    /// Per agent: (queue, the agent's position in that queue's members), in configuration order.
    pub(super) member_of: Vec<Vec<(usize, usize)>>,
    /// Per queue: member positions of its `Ready` members.
    pub(super) ready_members: Vec<BTreeSet<usize>>,
    /// Per queue: entries of other queues that overflowed into it, by home queue then line order.
    pub(super) overflowed: Vec<BTreeMap<usize, BTreeMap<LineKey, CallId>>>,
    /// Entries whose requirements relaxed since the last dispatch (those that started waiting
    /// are in [`Unoffered`]).
    pub(super) dirty_entries: Vec<CallId>,
    /// Agents that became ready or changed skills since the last dispatch.
    pub(super) dirty_agents: Vec<usize>,
    /// The dispatch's buffers of changed entries and agents, kept to reuse their memory.
    pub(super) scratch_entries: Vec<CallId>,
    /// See `scratch_entries`.
    pub(super) scratch_agents: Vec<usize>,
    /// Per agent: the sum of the talk times in its log.
    pub(super) talk_sum: Vec<Duration>,
    /// The longest least-talk-time window of any queue; older log entries never count again.
    pub(super) talk_window: Duration,
    /// Set when queues or members changed wholesale: the next dispatch tries every entry.
    pub(super) full: bool,
    /// Skill names as small numbers, so that checking many agents against one entry compares
    /// numbers instead of names; kept across a reindex, since entries hold these numbers.
    pub(super) skill_numbers: SkillNumbers,
    /// Per agent: its skills as (skill number, proficiency), sorted by number.
    agent_skills: Vec<Vec<(u32, u8)>>,
    /// The queues whose entries leave when the queue becomes empty (the others never need a
    /// look after a command).
    pub(super) leave_when_empty: Vec<usize>,
    /// Makes every dispatch a full pass, the reference the incremental one is compared with.
    #[cfg(test)]
    pub(super) reference: bool,
}

impl DispatchIndex {
    /// Indexes `agents` (as not ready) and `queues` (no entry waiting), numbering skills
    /// after `skill_numbers`.
    pub(super) fn new(agents: &[Agent], queues: &[Queue], skill_numbers: SkillNumbers) -> Self {
        let talk_window = queues
            .iter()
            .map(|q| match q.config.talk_time_window {
                w if w.is_zero() => DEFAULT_TALK_WINDOW,
                w => w,
            })
            .max()
            .unwrap_or(DEFAULT_TALK_WINDOW);
        let mut member_of = vec![Vec::new(); agents.len()];
        for (q, queue) in queues.iter().enumerate() {
            for (pos, &a) in queue.members.iter().enumerate() {
                member_of[a].push((q, pos));
            }
        }
        let mut index = Self {
            member_of,
            ready_members: vec![BTreeSet::new(); queues.len()],
            overflowed: vec![BTreeMap::new(); queues.len()],
            dirty_entries: Vec::new(),
            dirty_agents: Vec::new(),
            scratch_entries: Vec::new(),
            scratch_agents: Vec::new(),
            talk_sum: vec![Duration::ZERO; agents.len()],
            skill_numbers,
            agent_skills: vec![Vec::new(); agents.len()],
            talk_window,
            full: false,
            leave_when_empty: queues
                .iter()
                .enumerate()
                .filter(|(_, q)| q.config.leave_when_empty != EmptyRule::Never)
                .map(|(q, _)| q)
                .collect(),
            #[cfg(test)]
            reference: false,
        };
        for (a, agent) in agents.iter().enumerate() {
            index.skills_changed(a, &agent.skills);
        }
        index
    }

    /// Agent `a` entered (`ready`) or left the `Ready` state.
    pub(super) fn ready_changed(&mut self, a: usize, ready: bool) {
        for &(q, pos) in &self.member_of[a] {
            if ready {
                self.ready_members[q].insert(pos);
            } else {
                self.ready_members[q].remove(&pos);
            }
        }
        if ready {
            self.dirty_agents.push(a);
        }
    }

    /// Agent `a` has new `skills`: it may now qualify for entries it did not.
    pub(super) fn agent_changed(&mut self, a: usize, skills: &Skills) {
        self.skills_changed(a, skills);
        self.dirty_agents.push(a);
    }

    fn skills_changed(&mut self, a: usize, skills: &Skills) {
        let mut numbered: Vec<(u32, u8)> = skills
            .iter()
            .map(|(skill, &proficiency)| (self.skill_numbers.number(skill), proficiency))
            .collect();
        numbered.sort_unstable();
        self.agent_skills[a] = numbered;
    }

    /// Agent `a`'s proficiency in skill number `skill`, 0 when it lacks the skill.
    pub(super) fn proficiency(&self, a: usize, skill: u32) -> u8 {
        let skills = &self.agent_skills[a];
        skills
            .binary_search_by_key(&skill, |&(s, _)| s)
            .map_or(0, |i| skills[i].1)
    }

    /// Whether agent `a` meets `need`.
    pub(super) fn meets(&self, a: usize, need: Need) -> bool {
        self.proficiency(a, need.skill) >= need.min.max(1)
    }

    /// Whether agent `a` meets every one of `needs` (an AND; none is always met).
    pub(super) fn meets_all(&self, a: usize, needs: &[Need]) -> bool {
        needs.iter().all(|&n| self.meets(a, n))
    }

    /// The sum of agent `a`'s proficiencies in the skills of `needs` (0 where lacking).
    pub(super) fn proficiency_sum(&self, a: usize, needs: &[Need]) -> u32 {
        needs
            .iter()
            .map(|n| u32::from(self.proficiency(a, n.skill)))
            .sum()
    }

    /// `call` started waiting without an offer, or its requirements relaxed.
    pub(super) fn entry_changed(&mut self, call: CallId) {
        self.dirty_entries.push(call);
    }

    /// Entry `call` of home queue `home` overflowed into queue `into`.
    pub(super) fn overflow_added(&mut self, into: usize, home: usize, key: LineKey, call: CallId) {
        self.overflowed[into]
            .entry(home)
            .or_default()
            .insert(key, call);
    }

    /// The entry `key` of home queue `home` left the lines of the queues it overflowed into.
    pub(super) fn overflow_removed(&mut self, into: &[usize], home: usize, key: LineKey) {
        for &q in into {
            if let Some(line) = self.overflowed[q].get_mut(&home) {
                line.remove(&key);
                if line.is_empty() {
                    self.overflowed[q].remove(&home);
                }
            }
        }
    }
}

impl Router {
    /// Rebuilds the indexes from the queues, agents and entries, and makes the next dispatch try
    /// every waiting entry: for changes too wide to track one by one, such as a reload that
    /// changes queue members or overflow.
    pub(super) fn reindex(&mut self) {
        let numbers = std::mem::take(&mut self.index.skill_numbers);
        let mut index = DispatchIndex::new(&self.agents, &self.queues, numbers);
        for (a, agent) in self.agents.iter().enumerate() {
            if agent.state == AgentState::Ready {
                index.ready_changed(a, true);
            }
            index.talk_sum[a] = agent.talk.iter().map(|&(_, talk)| talk).sum();
        }
        for (&call, entry) in &self.calls {
            let key = entry.line_key();
            if self.queues[entry.queue].line.contains_key(&key) {
                for &o in &entry.overflow {
                    index.overflow_added(o, entry.queue, key, call);
                }
            }
        }
        index.full = true;
        #[cfg(test)]
        {
            index.reference = self.index.reference;
        }
        self.index = index;
    }

    /// Logs a call of `talk` that agent `a` ended at `end`, and forgets calls no window counts.
    pub(super) fn record_talk(&mut self, a: usize, end: Instant, talk: Duration) {
        let log = &mut self.agents[a].talk;
        // Kept sorted by end time so trimming stays at the front.
        let at = log.partition_point(|&(e, _)| e <= end);
        log.insert(at, (end, talk));
        self.index.talk_sum[a] += talk;
        self.trim_talk(a, end);
    }

    /// Drops agent `a`'s calls that ended before the longest window as seen from `now`.
    pub(super) fn trim_talk(&mut self, a: usize, now: Instant) {
        let Some(from) = now.checked_sub(self.index.talk_window) else {
            return;
        };
        let log = &mut self.agents[a].talk;
        while let Some(&(end, talk)) = log.front() {
            if end >= from {
                break;
            }
            log.pop_front();
            self.index.talk_sum[a] = self.index.talk_sum[a].saturating_sub(talk);
        }
    }

    /// Agent `a`'s talk time in calls that ended within `window` before `now` (after
    /// [`Router::trim_talk`] at `now`).
    pub(super) fn talk_within(&self, a: usize, now: Instant, window: Duration) -> Duration {
        if window >= self.index.talk_window {
            return self.index.talk_sum[a];
        }
        let from = now.checked_sub(window);
        self.agents[a]
            .talk
            .iter()
            .rev()
            .take_while(|(end, _)| from.is_none_or(|from| *end >= from))
            .map(|(_, talk)| *talk)
            .sum()
    }
}
