//! Skills, proficiencies and the requirements a queue entry puts on an agent.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// The configured name of a skill (e.g. `french`, `billing`); shared text, like
/// [`crate::AgentId`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SkillId(pub Arc<str>);

crate::ids::string_serde!(SkillId);

impl SkillId {
    /// Builds a skill id from anything string-like.
    pub fn new(id: impl Into<String>) -> Self {
        Self(Arc::from(id.into()))
    }

    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SkillId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The lowest proficiency an agent may have in a skill.
pub const MIN_PROFICIENCY: u8 = 1;
/// The highest proficiency an agent may have in a skill.
pub const MAX_PROFICIENCY: u8 = 10;

/// An agent's skills: proficiency 1-10 per skill (validated by the configuration).
pub type Skills = BTreeMap<SkillId, u8>;

/// One requirement: the agent has `skill` at `min_proficiency` or better.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SkillRequirement {
    /// The skill.
    pub skill: SkillId,
    /// The lowest acceptable proficiency (1-10; 1 means "has the skill at all").
    #[serde(default = "default_min")]
    pub min_proficiency: u8,
}

fn default_min() -> u8 {
    MIN_PROFICIENCY
}

impl SkillRequirement {
    /// A requirement of `skill` at `min_proficiency` or better.
    pub fn new(skill: impl Into<String>, min_proficiency: u8) -> Self {
        Self {
            skill: SkillId::new(skill),
            min_proficiency,
        }
    }

    /// Whether an agent with `skills` meets this requirement.
    pub fn met_by(&self, skills: &Skills) -> bool {
        skills
            .get(&self.skill)
            .is_some_and(|&p| p >= self.min_proficiency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_requirement_is_a_minimum_proficiency_in_one_skill() {
        let skills: Skills = [(SkillId::new("fr"), 7), (SkillId::new("billing"), 3)].into();
        assert!(SkillRequirement::new("fr", 7).met_by(&skills));
        assert!(SkillRequirement::new("fr", 1).met_by(&skills));
        assert!(!SkillRequirement::new("fr", 8).met_by(&skills));
        assert!(!SkillRequirement::new("de", 1).met_by(&skills));
    }
}
