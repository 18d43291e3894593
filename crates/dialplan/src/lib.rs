//! hotline-dialplan: the YAML IVR.
//!
//! A dialplan file says, for each number callers dial, what they hear and where they go. It is
//! read and validated once ([`Dialplan::parse`], [`Dialplan::load`]) into an immutable
//! [`Dialplan`]; every problem is reported at once as `file:line:column: message`. Each call then
//! walks it with an [`Ivr`], a pure state machine the call task drives.
//!
//! # The dialplan file (for operators)
//!
//! ```yaml
//! version: 1                  # required; the only version so far
//! numbers:                    # the numbers callers dial (the SIP Request-URI user part)
//!   "100":                    # quote numbers; digits, letters, + * # . _ - are allowed
//!     description: Main line  # optional free text, anywhere a number or node is
//!     start: welcome          # required: the node a call enters first
//!     nodes:                  # required: named steps; names use letters, digits, _ and -
//!       welcome:
//!         answer: true        # answer the call, then go to `next`
//!         next: main_menu
//!       main_menu:
//!         menu:
//!           prompt: greeting      # optional; a digit interrupts it (barge-in)
//!           timeout: 5s           # wait after the prompt; 500ms..5m; default 5s
//!           retries: 2            # extra attempts after a wrong digit; 0..10; default 2
//!           options:              # required: digit -> node; digits 0-9, "*" and "#" (quote them)
//!             "1": to_support
//!             "2": to_billing
//!           invalid: invalid      # optional prompt played after a wrong digit
//!           on_timeout: to_support  # optional; see below
//!           on_failure: goodbye     # optional; see below
//!       to_support: { queue: support }   # hand the call to a queue; the IVR ends
//!       to_billing: { queue: billing }
//!       goodbye:
//!         play: goodbye       # play a prompt to its end, then go to `next`
//!         next: hang_up
//!       hang_up: { hangup: true }        # hang up; the IVR ends
//! ```
//!
//! Every node does exactly one thing, named by one of these keys:
//!
//! | key      | value              | other keys        | what it does                                   |
//! |----------|--------------------|-------------------|------------------------------------------------|
//! | `answer` | `true`             | `next` (required) | answers the call                               |
//! | `play`   | prompt name        | `next` (required) | plays a prompt; keys pressed meanwhile are dropped |
//! | `menu`   | mapping (above)    | —                 | collects one digit and branches on it          |
//! | `queue`  | queue name or mapping (below) | — | puts the call in a routing queue            |
//! | `hangup` | `true`             | —                 | hangs up                                       |
//!
//! Any node may also carry `description:`. Prompt names are file names without extension: the
//! server plays `prompts/<language>/<name>.wav`. Durations are a whole number and a unit: `1500ms`,
//! `5s`, `2m`.
//!
//! **Queue options.** `queue:` also takes a mapping that asks more of the queue for this caller;
//! each key left out takes the queue's own setting:
//!
//! ```yaml
//! to_french: { queue: { name: support, skills: { french: 6 }, preferred_skills: { billing: 3 },
//!                       priority: 5, max_wait: 5m } }
//! ```
//!
//! `skills` are required (every one, at the given minimum proficiency 1-10), `preferred_skills`
//! only rank agents, `priority` replaces the queue's (higher is served first) and `max_wait` the
//! queue's longest wait.
//!
//! **Answering.** A call is answered automatically before the first prompt, menu or queue; an
//! `answer` node makes the moment explicit. A `hangup` reached before answering rejects the call.
//!
//! **Menus.** The prompt plays; a digit pressed at any time (even mid-prompt) is taken. After the
//! prompt ends the menu waits `timeout`.
//! - A digit with an option goes to its node.
//! - A wrong digit uses up an attempt: `invalid` plays (if set), then the menu prompt again. When
//!   the attempts (`1 + retries`) are used up the call goes to `on_failure`, or is hung up if it
//!   has none.
//! - A timeout goes to `on_timeout` at once if it is set. Without `on_timeout` a timeout uses up
//!   an attempt like a wrong digit (without the `invalid` prompt).
//!
//! Keys pressed outside a menu (during a `play` node) are dropped, not remembered for the next
//! menu, so a caller cannot pick an option they have not heard.
//!
//! **Checks.** Loading refuses the file, listing every error, for: YAML syntax errors, duplicate
//! keys, unknown keys (with a "did you mean"), missing `version`/`numbers`/`start`/`nodes`/`next`,
//! a node with no or two actions, references to nodes that do not exist, menu digits other than a
//! single 0-9, `*` or `#`, bad durations, timeouts outside 500ms..5m, retries above 10, and cycles
//! that need no caller input (e.g. `play` -> `play` -> back, or a menu whose `on_timeout` leads
//! back to it: a silent caller would loop forever; a cycle through a menu digit is fine). When
//! the server supplies its queue and prompt names, unknown ones are errors too. Nodes that cannot
//! be reached from `start` are only a warning ([`Dialplan::warnings`]): the plan still works.
//!
//! # Using it (for the server)
//!
//! ```
//! use std::sync::Arc;
//! use std::time::{Instant, SystemTime};
//! use hotline_dialplan::{CallInfo, Dialplan, Ivr, IvrAction, ValidationContext};
//!
//! let source = "version: 1\nnumbers:\n  \"200\":\n    start: q\n    nodes:\n      q: { queue: support }\n";
//! let plan = Arc::new(Dialplan::parse(source, "inline.yaml", &ValidationContext::default()).unwrap());
//! let call = CallInfo::new("200", "013800000000", SystemTime::now());
//! let mut ivr = Ivr::start(Arc::clone(&plan), call, Instant::now()).expect("number exists");
//! assert_eq!(ivr.caller(), "+8613800000000"); // compared in E.164 (country 86 by default)
//! assert_eq!(ivr.poll_action(), Some(IvrAction::Answer));
//! assert_eq!(
//!     ivr.poll_action(),
//!     Some(IvrAction::Queue {
//!         queue: "support".into(),
//!         options: Default::default(),
//!         data: Default::default(),
//!     })
//! );
//! assert!(ivr.is_finished());
//! ```

mod condition;
mod duration;
mod e164;
mod error;
mod exec;
mod model;
mod read;
mod schedule;
mod validate;
mod yaml;

use std::path::Path;

pub use condition::{Condition, Pattern, TimeWindow, VariableTest};
pub use duration::{format_duration, parse_duration, DurationError};
pub use e164::{comparable, normalize, CountryCode, E164Error, NumberList};
pub use error::{DialplanError, DialplanErrors, LoadError, Severity};
pub use exec::{
    CallAttributes, CallInfo, HangupReason, Ivr, IvrAction, IvrInput, IvrOutcome, IvrTimer,
};
pub use model::{
    Assignment, Branch, Collect, Dialplan, Edge, HangupCause, Menu, Node, NodeKind, Number, Play,
    QueueOptions, Rule, DEFAULT_MENU_RETRIES, DEFAULT_MENU_TIMEOUT, MAX_COLLECT_DIGITS,
    MAX_MENU_RETRIES, MAX_MENU_TIMEOUT, MAX_PROFICIENCY, MIN_MENU_TIMEOUT, MIN_PROFICIENCY,
};
pub use read::VERSION;
pub use schedule::{Hours, Schedule, ScheduleStatus};
pub use validate::ValidationContext;

use error::Diagnostics;

impl Dialplan {
    /// Reads and validates a dialplan from `source`; `file` is used in messages only.
    ///
    /// Returns every error found, sorted by position. Warnings (unreachable nodes) do not fail
    /// the parse; they are kept in [`Dialplan::warnings`].
    pub fn parse(
        source: &str,
        file: impl AsRef<Path>,
        ctx: &ValidationContext,
    ) -> Result<Dialplan, DialplanErrors> {
        let file = file.as_ref();
        let mut diags = Diagnostics::new(file);
        let read = read::read(source, file, &mut diags);
        let lists = read.lists.clone();
        let schedules = read.schedules.clone();
        let country = read.country;
        let validated = validate::validate(read, ctx, &mut diags);
        let warnings = diags.finish()?;
        Ok(Dialplan {
            file: file.to_path_buf(),
            numbers: validated.numbers,
            prompts: validated.prompts,
            queues: validated.queues,
            lists,
            schedules,
            country,
            warnings,
        })
    }

    /// Reads the file at `path` and validates it like [`Dialplan::parse`].
    pub fn load(path: impl AsRef<Path>, ctx: &ValidationContext) -> Result<Dialplan, LoadError> {
        let path = path.as_ref();
        let source = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Dialplan::parse(&source, path, ctx).map_err(LoadError::Invalid)
    }
}
