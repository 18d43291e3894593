//! Skill requirements as the router keeps them: by skill number, not by name.
//!
//! A waiting entry's requirements are checked against many agents, and there may be 100,000
//! entries: a number and a minimum (8 bytes, no text) per requirement keeps each entry small and
//! each check a comparison of numbers. Skill names are numbered once, when first seen, and keep
//! their number for the router's life (a reload or reindex never renumbers them).

use std::collections::HashMap;

use crate::skills::{SkillId, SkillRequirement};

/// One requirement by skill number: the agent has skill `skill` at `min` or better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Need {
    /// The skill's number (see [`SkillNumbers`]).
    pub(super) skill: u32,
    /// The lowest acceptable proficiency.
    pub(super) min: u8,
}

/// Skill names and their numbers, in the order first seen.
#[derive(Debug, Default)]
pub(super) struct SkillNumbers {
    numbers: HashMap<SkillId, u32>,
}

impl SkillNumbers {
    /// The number of `skill`, giving it the next one if it has none yet.
    pub(super) fn number(&mut self, skill: &SkillId) -> u32 {
        if let Some(&n) = self.numbers.get(skill) {
            return n;
        }
        let next = u32::try_from(self.numbers.len()).unwrap_or(u32::MAX);
        self.numbers.insert(skill.clone(), next);
        next
    }

    /// The number of `skill`, if it has one.
    pub(super) fn get(&self, skill: &SkillId) -> Option<u32> {
        self.numbers.get(skill).copied()
    }

    /// `requirements` by skill number, numbering skills not seen yet.
    pub(super) fn needs(&mut self, requirements: &[SkillRequirement]) -> Vec<Need> {
        requirements
            .iter()
            .map(|r| Need {
                skill: self.number(&r.skill),
                min: r.min_proficiency,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_skill_keeps_the_number_it_was_first_given() {
        let mut numbers = SkillNumbers::default();
        let needs = numbers.needs(&[
            SkillRequirement::new("fr", 3),
            SkillRequirement::new("billing", 1),
        ]);
        assert_eq!(
            needs,
            vec![Need { skill: 0, min: 3 }, Need { skill: 1, min: 1 }]
        );
        assert_eq!(numbers.number(&SkillId::new("billing")), 1);
        assert_eq!(numbers.get(&SkillId::new("de")), None);
        assert_eq!(numbers.number(&SkillId::new("de")), 2);
    }
}
