//! The action keys that say what a node does, and the other keys each kind of node takes.

use super::{Fields, Reader};

/// The key that says what a node does; exactly one per node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Action {
    Answer,
    Play,
    Say,
    Menu,
    Collect,
    Set,
    Branch,
    Schedule,
    Queue,
    Goto,
    Hangup,
    Voicemail,
    Http,
    Transfer,
    Consent,
    Survey,
}

impl Action {
    pub(super) const ALL: &'static [Action] = &[
        Action::Answer,
        Action::Play,
        Action::Say,
        Action::Menu,
        Action::Collect,
        Action::Set,
        Action::Branch,
        Action::Schedule,
        Action::Queue,
        Action::Goto,
        Action::Hangup,
        Action::Voicemail,
        Action::Http,
        Action::Transfer,
        Action::Consent,
        Action::Survey,
    ];

    pub(super) fn key(self) -> &'static str {
        match self {
            Action::Answer => "answer",
            Action::Play => "play",
            Action::Say => "say",
            Action::Menu => "menu",
            Action::Collect => "collect",
            Action::Set => "set",
            Action::Branch => "branch",
            Action::Schedule => "schedule",
            Action::Queue => "queue",
            Action::Goto => "goto",
            Action::Hangup => "hangup",
            Action::Voicemail => "voicemail",
            Action::Http => "http",
            Action::Transfer => "transfer",
            Action::Consent => "consent",
            Action::Survey => "survey",
        }
    }

    /// Keys besides the action key a node of this kind takes.
    pub(super) fn extra_keys(self) -> &'static [&'static str] {
        match self {
            Action::Answer | Action::Collect | Action::Set | Action::Say | Action::Voicemail => {
                &["next"]
            }
            Action::Http | Action::Consent => &["next"],
            Action::Play => &["next", "barge_in"],
            Action::Branch => &["otherwise"],
            Action::Survey => &["next", "on_skipped"],
            Action::Schedule => &["open", "closed", "holiday"],
            Action::Menu | Action::Queue | Action::Goto | Action::Hangup | Action::Transfer => &[],
        }
    }
}

pub(super) const NODE_KEYS: &[&str] = &[
    "answer",
    "play",
    "say",
    "menu",
    "collect",
    "set",
    "branch",
    "schedule",
    "queue",
    "goto",
    "hangup",
    "voicemail",
    "http",
    "transfer",
    "consent",
    "survey",
    "next",
    "barge_in",
    "otherwise",
    "open",
    "closed",
    "holiday",
    "on_skipped",
    "description",
];

impl Reader<'_, '_> {
    /// Keys that belong to other kinds of node (`next` on a menu, `open` on a play, ...).
    pub(super) fn misplaced_keys(&mut self, action: Action, fields: &Fields<'_>) {
        for (key, (located, _)) in fields {
            let own = *key == action.key()
                || *key == "description"
                || action.extra_keys().contains(key)
                || Action::ALL.iter().any(|a| a.key() == *key);
            if own {
                continue;
            }
            let instead = match (action, *key) {
                (Action::Menu, "next") => {
                    "; a menu leads on through `options`, `default`, `on_timeout` and `on_failure`"
                }
                (Action::Queue | Action::Hangup, "next") => "; the call leaves the dialplan here",
                (Action::Goto, "next") => "; `goto` names the node itself",
                (Action::Transfer, "next") => {
                    "; the call leaves the dialplan here, or goes on in another number's flow, a queue's `exit` or the dial's `failed`"
                }
                _ => "",
            };
            self.diags.error(
                located.pos,
                format!(
                    "`{key}` is not allowed on a `{}` node{instead}",
                    action.key()
                ),
            );
        }
    }
}
