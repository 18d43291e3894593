//! Skill requirements as the router keeps them: by skill number, not by name.
//!
//! A waiting entry's requirements are checked against many agents, and there may be 100,000
//! entries: a number and a minimum (8 bytes, no text) per requirement keeps each entry small and
//! each check a comparison of numbers. Skill names are numbered once, when first seen, and keep
//! their number for the router's life (a reload or reindex never renumbers them).

use std::ops::{Deref, DerefMut};

use crate::id_hash::IdMap;
use crate::skills::{SkillId, SkillRequirement};

/// One requirement by skill number: the agent has skill `skill` at `min` or better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Need {
    /// The skill's number (see [`SkillNumbers`]).
    pub(super) skill: u32,
    /// The lowest acceptable proficiency.
    pub(super) min: u8,
}

/// An entry's requirements: up to two (nearly every entry) held in place, more in a box, so the
/// common entry allocates nothing for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Needs {
    /// `len` (0-2) requirements, the first of `needs`.
    Inline {
        /// How many of `needs` count.
        len: u8,
        /// The requirements, unused places zero.
        needs: [Need; 2],
    },
    /// More than two requirements.
    Spilled(Box<[Need]>),
}

const NO_NEED: Need = Need { skill: 0, min: 0 };

impl Default for Needs {
    fn default() -> Self {
        Needs::Inline {
            len: 0,
            needs: [NO_NEED; 2],
        }
    }
}

impl Needs {
    /// Keeps only the requirements `keep` says yes to, in order.
    pub(super) fn retain(&mut self, keep: impl FnMut(&Need) -> bool) {
        *self = self.iter().copied().filter(keep).collect();
    }
}

impl FromIterator<Need> for Needs {
    fn from_iter<I: IntoIterator<Item = Need>>(iter: I) -> Self {
        let mut needs = [NO_NEED; 2];
        let mut len = 0usize;
        let mut iter = iter.into_iter();
        for need in iter.by_ref() {
            if len == needs.len() {
                let mut all: Vec<Need> = needs.to_vec();
                all.push(need);
                all.extend(iter);
                return Needs::Spilled(all.into_boxed_slice());
            }
            needs[len] = need;
            len += 1;
        }
        // `len` is at most 2.
        Needs::Inline {
            len: len as u8,
            needs,
        }
    }
}

impl Deref for Needs {
    type Target = [Need];

    fn deref(&self) -> &[Need] {
        match self {
            Needs::Inline { len, needs } => &needs[..usize::from(*len)],
            Needs::Spilled(needs) => needs,
        }
    }
}

impl DerefMut for Needs {
    fn deref_mut(&mut self) -> &mut [Need] {
        match self {
            Needs::Inline { len, needs } => &mut needs[..usize::from(*len)],
            Needs::Spilled(needs) => needs,
        }
    }
}

/// Skill names and their numbers, in the order first seen.
#[derive(Debug, Default)]
pub(super) struct SkillNumbers {
    numbers: IdMap<SkillId, u32>,
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
    pub(super) fn needs(&mut self, requirements: &[SkillRequirement]) -> Needs {
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
            *needs,
            [Need { skill: 0, min: 3 }, Need { skill: 1, min: 1 }]
        );
        assert_eq!(numbers.number(&SkillId::new("billing")), 1);
        assert_eq!(numbers.get(&SkillId::new("de")), None);
        assert_eq!(numbers.number(&SkillId::new("de")), 2);
    }

    #[test]
    fn two_needs_stay_in_place_and_more_spill_into_a_box() {
        let need = |skill| Need { skill, min: 1 };
        let mut two: Needs = (0..2).map(need).collect();
        assert!(matches!(two, Needs::Inline { len: 2, .. }));
        two.retain(|n| n.skill == 1);
        assert_eq!(*two, [need(1)]);
        two[0].min = 4;
        assert_eq!(two[0], Need { skill: 1, min: 4 });
        let mut five: Needs = (0..5).map(need).collect();
        assert!(matches!(five, Needs::Spilled(_)));
        assert_eq!(five.len(), 5);
        five.retain(|n| n.skill % 2 == 0);
        assert_eq!(*five, [need(0), need(2), need(4)]);
        five.retain(|n| n.skill > 0);
        assert!(matches!(five, Needs::Inline { len: 2, .. }));
        assert!(Needs::default().is_empty());
        assert_eq!(std::mem::size_of::<Needs>(), 24);
    }
}
