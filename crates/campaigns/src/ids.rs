//! Identifiers: callbacks, queues, agents and skills.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// hotline's own id of a callback: the server passes its UUID as a `u128`.
///
/// Written as a hyphenated UUID in events and configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CallbackId(pub u128);

impl fmt::Display for CallbackId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex = format!("{:032x}", self.0);
        write!(
            f,
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        )
    }
}

/// A callback id that is not a UUID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a UUID: {0:?}")]
pub struct BadCallbackId(pub String);

impl FromStr for CallbackId {
    type Err = BadCallbackId;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let hex: String = text.chars().filter(|c| *c != '-').collect();
        let shape_ok = hex.len() == 32
            && (text.len() == 32 || text.len() == 36)
            && hex.chars().all(|c| c.is_ascii_hexdigit());
        if !shape_ok {
            return Err(BadCallbackId(text.to_owned()));
        }
        u128::from_str_radix(&hex, 16)
            .map(Self)
            .map_err(|_| BadCallbackId(text.to_owned()))
    }
}

impl Serialize for CallbackId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CallbackId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        ///
        /// Shared text: a clone counts a reference, it copies nothing.
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub Arc<str>);

        impl $name {
            /// Builds the name from anything string-like.
            pub fn new(name: impl Into<String>) -> Self {
                Self(Arc::from(name.into()))
            }

            /// The name as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer).map(Self::new)
            }
        }
    };
}

name_type!(
    /// The configured name of a queue (the routing core's queue id).
    QueueName
);
name_type!(
    /// The name of the agent the driver reserved for an attempt.
    AgentName
);
name_type!(
    /// A skill a callback requires of its agent.
    SkillName
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_ids_print_and_read_as_uuids() {
        let id = CallbackId(0x0123_4567_89ab_cdef_0011_2233_4455_6677);
        let text = id.to_string();
        assert_eq!(text, "01234567-89ab-cdef-0011-223344556677");
        assert_eq!(text.parse::<CallbackId>(), Ok(id));
        assert_eq!(
            "0123456789abcdef0011223344556677".parse::<CallbackId>(),
            Ok(id)
        );
        for bad in [
            "",
            "xyz",
            "01234567-89ab-cdef-0011-22334455667",
            "g1234567-89ab-cdef-0011-223344556677",
        ] {
            assert!(bad.parse::<CallbackId>().is_err(), "{bad}");
        }
    }
}
