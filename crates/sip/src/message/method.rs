//! SIP request methods.

use std::fmt;

use super::lex::is_token;

/// A request method. Methods are case-sensitive (RFC 3261 7.1): `invite` is `Other`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    /// INVITE
    Invite,
    /// ACK
    Ack,
    /// BYE
    Bye,
    /// CANCEL
    Cancel,
    /// OPTIONS
    Options,
    /// REGISTER
    Register,
    /// INFO (RFC 6086)
    Info,
    /// UPDATE (RFC 3311)
    Update,
    /// PRACK (RFC 3262)
    Prack,
    /// SUBSCRIBE (RFC 6665)
    Subscribe,
    /// NOTIFY (RFC 6665)
    Notify,
    /// REFER (RFC 3515)
    Refer,
    /// MESSAGE (RFC 3428)
    Message,
    /// PUBLISH (RFC 3903)
    Publish,
    /// Any other token: the server answers 501 (or 405).
    Other(String),
}

impl Method {
    /// Parses a method token; `None` when `s` is not a token.
    pub fn parse(s: &str) -> Option<Method> {
        if !is_token(s) {
            return None;
        }
        Some(match s {
            "INVITE" => Method::Invite,
            "ACK" => Method::Ack,
            "BYE" => Method::Bye,
            "CANCEL" => Method::Cancel,
            "OPTIONS" => Method::Options,
            "REGISTER" => Method::Register,
            "INFO" => Method::Info,
            "UPDATE" => Method::Update,
            "PRACK" => Method::Prack,
            "SUBSCRIBE" => Method::Subscribe,
            "NOTIFY" => Method::Notify,
            "REFER" => Method::Refer,
            "MESSAGE" => Method::Message,
            "PUBLISH" => Method::Publish,
            other => Method::Other(other.to_string()),
        })
    }

    /// The method as written on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Options => "OPTIONS",
            Method::Register => "REGISTER",
            Method::Info => "INFO",
            Method::Update => "UPDATE",
            Method::Prack => "PRACK",
            Method::Subscribe => "SUBSCRIBE",
            Method::Notify => "NOTIFY",
            Method::Refer => "REFER",
            Method::Message => "MESSAGE",
            Method::Publish => "PUBLISH",
            Method::Other(s) => s,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_case_sensitive_tokens() {
        assert_eq!(Method::parse("INVITE"), Some(Method::Invite));
        assert_eq!(
            Method::parse("invite"),
            Some(Method::Other("invite".into()))
        );
        assert_eq!(
            Method::parse("RE%47IST%45R")
                .map(|m| m.to_string())
                .as_deref(),
            Some("RE%47IST%45R")
        );
        assert_eq!(Method::parse("A B"), None);
        assert_eq!(Method::parse(""), None);
    }
}
