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
//! country: "86"               # optional: how numbers without `+` are read (see below)
//! lists: { ... }              # optional: named number lists (see below)
//! schedules: { ... }          # optional: named opening hours (see below)
//! surveys: { ... }            # optional: satisfaction surveys (see below)
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
//! | key        | value                         | other keys                  | what it does |
//! |------------|-------------------------------|-----------------------------|--------------|
//! | `answer`   | `true`                        | `next`                      | answers the call |
//! | `play`     | a prompt or a list of prompts | `next`, `barge_in`          | plays them in order, then goes on |
//! | `say`      | mapping (below)               | `next`                      | speaks a value in the call's language |
//! | `menu`     | mapping (below)               | —                           | collects one digit and branches on it |
//! | `collect`  | mapping (below)               | `next`                      | collects several digits into a variable |
//! | `set`      | mapping (below)               | `next`                      | sets variables and call attributes |
//! | `branch`   | list of rules (below)         | `otherwise`                 | goes to the first rule that holds |
//! | `schedule` | a schedule name               | `open`, `closed`, `holiday` | goes on by the schedule's state now |
//! | `queue`    | queue name or mapping (below) | —                           | puts the call in a routing queue |
//! | `goto`     | a node name                   | —                           | goes straight to that node |
//! | `voicemail`| mapping (below)               | `next`                      | records a message to a box |
//! | `http`     | mapping (below)               | `next`                      | looks the caller up in a CRM |
//! | `transfer` | mapping (below)               | —                           | another number's flow, a queue or an outside number |
//! | `hangup`   | `true` or a cause (below)     | —                           | hangs up |
//! | `consent`  | mapping (below)               | `next`                      | plays the recording notice; the caller may opt out |
//! | `survey`   | a survey name (below)         | `next`, `on_skipped`        | asks a survey's questions; answers are keys |
//!
//! Any node may also carry `description:`. Prompt names are file names without extension: the
//! server plays `prompts/<language>/<name>.wav`. Durations are a whole number and a unit: `1500ms`,
//! `5s`, `2m`.
//!
//! **Play.** `play: [welcome, privacy]` plays each prompt in turn. Keys pressed meanwhile are
//! dropped, unless `barge_in: true`: then a key stops the prompts and is kept for the menu or
//! collect that follows (a caller who knows the menu need not listen to the end).
//!
//! **Say.** `say: { value: "${position}", kind: position }` speaks a literal or a variable from
//! number prompts in the call's language (see [`say`]): `digits` one by one, a `number` up to
//! 99,999,999, a `duration` in seconds (`95`) or as a duration (`2m`) rounded for a caller ("less
//! than a minute", "about 3 minutes", "about 1 hour 20 minutes"), a queue `position` ("you are
//! number 3 in the queue"). A Mandarin language (`zh`, `zh-CN`, `cmn`) follows Mandarin rules (十
//! for 10-19, 零 in gaps, 两 before 百/千/万 and in counts); any other speaks English. A literal is
//! checked when the plan loads; a variable that holds no number when the node runs skips it. Keys
//! pressed meanwhile are dropped. `kind: text` speaks any text (`value: "Hello ${name}"`),
//! synthesized by the server at run time in the call's language (no prompt files); text that is
//! empty once its variables are filled in skips the node. [`Dialplan::speech_nodes`] lists those
//! nodes with their positions, so a server without a synthesizer can refuse the plan.
//!
//! **Menus.** The prompt (`prompt:` one name or a list) plays; a digit pressed at any time (even
//! mid-prompt) is taken. After the prompt ends the menu waits `timeout` (500ms..5m, default 5s).
//! - A digit with an option goes to its node; any other digit goes to `default` when it is set.
//! - A wrong digit uses up an attempt: `invalid` plays (if set), then the menu prompt again. When
//!   the attempts (`1 + retries`, retries 0..10, default 2) are used up the call goes to
//!   `on_failure`, or is hung up if it has none.
//! - A timeout goes to `on_timeout` at once if it is set. Without `on_timeout` a timeout uses up
//!   an attempt like a wrong digit, with `timeout_prompt` (if set) instead of `invalid`.
//!
//! **Collect.** Several digits into a variable:
//!
//! ```yaml
//! account:
//!   collect:
//!     prompt: enter_account        # one name or a list; a digit interrupts it
//!     min_digits: 6                # default 1; 0 accepts empty input
//!     max_digits: 10               # required, up to 64; input ends when this many arrived
//!     terminator: "#"              # optional; ends input early, not stored
//!     timeout: 5s                  # wait for the first digit (default 5s)
//!     inter_digit_timeout: 3s      # wait between digits (default 3s); ends input
//!     pattern: "[1-9][0-9]*"       # optional regular expression the whole input must match
//!     into: account                # the variable
//!     retries: 2                   # extra attempts after bad or missing input (default 2)
//!     invalid: bad_account         # optional prompt after bad input
//!     on_failure: agent            # optional; hung up without it
//!   next: check_account
//! ```
//!
//! **Set.** `set: { variables: { tier: gold }, language: zh, priority: 8, skills: { mandarin: 5 },
//! data: { account: "${account}" } }`. Variables are read by `branch`; `${name}` in a value is
//! replaced by that variable. The attributes follow the call: `language` picks the prompt folder
//! (`prompts/zh/...`, the server's language where a prompt is missing), `priority` and `skills`
//! apply to the queue the call enters later (a queue node's own `priority` wins; `skills` add up),
//! `data` travels with the queue entry. `recording: always | never | on_demand | { sampled: 20% }`
//! sets the call's recording policy over its queue's; `recording: { policy: always, ivr: true }`
//! also records the IVR part, from the answer (or this node, if later).
//!
//! **Consent.** `consent: { prompt: recording_notice, opt_out: "9", timeout: 3s }` plays the
//! notice; the `opt_out` key (during the notice or `timeout` after it, 500ms..5m, default 3s)
//! marks the call as declining to be recorded, whatever the policy; otherwise consent is given
//! (without `opt_out`, once the notice has played). Other keys are ignored. Then `next`.
//!
//! **Branch.** Rules are tried in order; a rule holds when all its conditions hold:
//!
//! ```yaml
//! route:
//!   branch:
//!     - when: { caller_in: blacklist }             # the caller's number is in a list
//!       goto: refuse
//!     - when: { caller_prefix: "+8610", dialed: "95500" }
//!       goto: beijing
//!     - when: { var: { name: tier, equals: gold } } # or in: [..], matches: regex, set: true
//!       goto: gold
//!     - when: { time: { time_zone: Asia/Shanghai, days: [sat, sun], hours: "09:00-12:00" } }
//!       goto: weekend_desk
//!   otherwise: menu
//! ```
//!
//! Conditions: `caller_in` / `caller_not_in` (a list), `caller` (a number in any form),
//! `caller_prefix` (E.164, `+` and digits), `dialed`, `dialed_prefix`, `var`, `time`. `when:` also
//! takes a list of such mappings.
//!
//! **Caller numbers** are compared in E.164 (`+8613800000000`) whatever form they come in: `+`
//! kept, `00` (and `011` in North America) is the international prefix, a leading `0` the trunk
//! prefix, anything else a national number of the dialplan's `country` (a top-level calling code,
//! default `"86"`; `"1"` reads ten-digit numbers the North American way). Numbers shorter than 7
//! digits or with letters (extensions, SIP user names) are compared as sent.
//!
//! **Lists** (top level) are named number lists, written in any form and stored in E.164:
//!
//! ```yaml
//! lists:
//!   blacklist: ["+8613900000666", "010 6000 0000"]
//!   vip: { file: vip.txt }        # one number a line, `#` comments; relative to this file
//! ```
//!
//! **Schedules** (top level) say when a service is open, in an IANA time zone (the time-zone
//! rules are compiled into hotline, not read from the host, so DST changes follow the zone):
//!
//! ```yaml
//! schedules:
//!   service_hours:
//!     time_zone: Asia/Shanghai
//!     hours: { mon-fri: ["09:00-12:00", "13:00-18:00"], sat: "09:00-12:00" }  # or `closed`
//!     holidays: ["2026-10-01..2026-10-07", "2027-01-01"]     # closed, with their own branch
//!     working_days: ["2026-09-27"]           # make-up working days, whatever their weekday
//!     working_day_hours: "09:00-18:00"       # their hours (default: Monday's)
//!     overrides: { "2026-12-31": "09:00-15:00", "2026-12-24": closed }
//! ```
//!
//! Days are `mon`..`sun`, ranges such as `mon-fri`, or `daily`; hours `HH:MM-HH:MM` (end `24:00`
//! allowed). For a date, an override wins, then a holiday, then a make-up working day, then the
//! weekday's hours. A node `{ schedule: service_hours, open: menu, closed: after_hours, holiday:
//! holiday_notice }` goes on by the state at that moment (`holiday` defaults to `closed`).
//!
//! **Queue options.** `queue:` also takes a mapping that asks more of the queue for this caller;
//! each key left out takes what a `set` node gave the call, else the queue's own setting:
//!
//! ```yaml
//! to_french: { queue: { name: support, skills: { french: 6 }, preferred_skills: { billing: 3 },
//!                       priority: 5, max_wait: 5m, callback_offer: 2m, exit: offer_callback } }
//! ```
//!
//! `skills` are required (every one, at the given minimum proficiency 1-10), `preferred_skills`
//! only rank agents, `priority` replaces the queue's (higher is served first), `max_wait` the
//! queue's longest wait and `callback_offer` the queue's wait before a callback is offered. With `exit`, a caller the queue lets go (max wait) comes back into the
//! dialplan at that node instead of being hung up.
//!
//! **Surveys.** `survey: csat` in a queue mapping names a top-level survey the caller hears when
//! the agent hangs up first (none when the caller hangs up first):
//!
//! ```yaml
//! surveys:
//!   csat:
//!     intro: survey_intro          # optional, played first (keys over it are dropped)
//!     questions:                   # 1 to 10, asked in order; a key interrupts the question
//!       - survey_agent             # a prompt name: scores 1 to 5
//!       - { prompt: survey_resolved, min: 1, max: 2 }   # scores are single keys 0-9
//!     timeout: 5s                  # wait for a key after each question (500ms..5m, default 5s)
//!     retries: 1                   # extra attempts per question (0..10, default 1)
//!     invalid: survey_invalid      # optional, after a key out of range
//!     thanks: survey_thanks        # optional, once every question is answered
//! ```
//!
//! A question with no valid key after its attempts ends the survey as skipped; the server then
//! hangs up. An unknown survey name is refused with a "did you mean" hint.
//!
//! A `survey` node asks a survey anywhere in a flow (an agentless campaign's questions, a
//! survey before or instead of a queue): `ask: { survey: csat, next: thanks, on_skipped: sorry }`.
//! The server runs it like the post-call one (same prompts, keys, timeouts and `survey.*`
//! events; on a campaign call the events name the campaign and the customer's record). Once
//! every question is answered (after `thanks`) the call goes to `next`; a question with no valid
//! key goes to `on_skipped`; without them the call is hung up. `next` needs the caller's keys,
//! so a cycle back through it is allowed; `on_skipped` is taken on silence, so a cycle through
//! it is refused like a menu's `on_timeout`. Keys pressed during the survey are its answers, not
//! menu keys. [`simulate`] runs the survey with the keys given in advance.
//!
//! **Voicemail.** `voicemail: { box: sales, prompt: leave_message, max_length: 2m, silence: 5s,
//! end_key: "#" }` plays its prompts (no barge-in), then the `beep` prompt, then records the
//! caller to box `sales` until the end key (not recorded), `silence` of quiet (optional),
//! `max_length` (1 s to 10 m, default 2 m) or the caller hanging up, which keeps what was said.
//! Then it goes to `next` (not after a hang-up). `box` is a name like a node's; the server writes
//! `<data-dir>/voicemail/<box>/YYYY/MM/DD/<call-id>.wav` and a JSON sidecar beside it.
//!
//! **CRM lookup.** `http: { url: "/customers?number=${caller}", method: GET, timeout: 2s,
//! retries: 1, map: { name: customer.name, tier: /customer/tier }, attach: [name, tier],
//! on_failure: menu }` with `next: menu` asks the server to fetch the URL (a path under the
//! configured CRM, or `http://...`; `${...}` values, including `${caller}` in E.164 and
//! `${dialed}`, are percent-encoded; `method: POST` sends `body: { field: "${var}" }` as JSON).
//! Each attempt may take `timeout` (at most 30 s, default 2 s), `retries` (0-5, default 0) more
//! follow a failure; after the last (non-2xx, timeout, invalid JSON) the call takes `on_failure`.
//! A good answer sets each `map` variable from its field (dotted path or JSON pointer; unset when
//! missing) and `attach`ed ones join the queue entry's data for the agent (see [`http`]).
//!
//! **Transfer.** A `transfer` node sends the call to exactly one of three places:
//!
//! ```yaml
//! to_cards: { transfer: { flow: "95501" } }      # go on at the start node of number 95501
//! to_billing:                                     # a queue, with a queue node's settings
//!   transfer: { queue: billing, priority: 5, skills: { french: 6 }, max_wait: 5m, exit: sorry }
//! to_branch:
//!   transfer:
//!     number: "+861060000000"  # or "${callback}": a variable, filled in when the node runs
//!     trunk: pstn              # optional: the SIP trunk; the only or default one when left out
//!     timeout: 30s             # optional: how long it may ring (above 0, at most 5m; default 30s)
//!     announce: connecting     # optional: prompts played first (keys over them are dropped)
//!     failed: sorry            # optional: where the call goes when the dial fails
//! ```
//!
//! `flow` names another number of the same file: the call goes on at its start node, keeping its
//! variables, language and attributes (conditions still see the number the caller dialed). A loop
//! of flow transfers that needs no caller input is refused like any other. `queue` takes every
//! key of a queue node's mapping (`priority`, `skills`, `preferred_skills`, `max_wait`,
//! `callback_offer`, `exit`, `survey`) and behaves as one. `number` bridges the caller to an
//! outside number through a trunk; once it answers the dialplan is done. When the dial fails (no
//! answer within `timeout`, busy, refused, no trunk) the call goes to `failed`, or is hung up as
//! `unavailable` without it. A literal number must look like a phone number in any form (see
//! caller numbers above; fewer than 7 digits, e.g. a service code, is only a warning); keys that
//! belong to another target (`trunk` beside `queue`) are errors. [`Dialplan::dial_nodes`] lists
//! the dials with the positions of their node, number and trunk, so the server can refuse a plan
//! whose trunk is not configured or whose literal number the trunk's allow-list refuses.
//!
//! **Hanging up.** `hangup: true` ends the call normally; a cause says more: `busy` (486 before
//! answer), `rejected` (603), `unavailable` (480), `congestion` (503), `not_found` (404). Once the
//! call is answered the BYE carries the cause as `Reason: Q.850;cause=N`.
//!
//! **Answering.** A call is answered automatically before the first prompt, menu, collect or
//! queue; an `answer` node makes the moment explicit. A `hangup` reached before answering rejects
//! the call.
//!
//! **Checks.** Loading refuses the file, listing every error with its position, for: YAML syntax
//! errors, duplicate keys, unknown keys (with a "did you mean"), missing `version`/`numbers`/
//! `start`/`nodes`/`next`, a node with no or two actions, keys that belong to another kind of node,
//! references to nodes, lists, schedules or (in a flow transfer) numbers that do not exist, menu
//! digits other than a single 0-9, `*` or `#`, bad durations, numbers, dates, hours, time zones,
//! patterns and causes, and cycles that need no caller input (e.g. `play` -> `set` -> back, a
//! menu whose `on_timeout` leads back to it, or flow transfers back and forth: a silent caller
//! would loop forever; a cycle through a menu digit or a collect that needs digits is fine). When
//! the server supplies its queue and prompt names, unknown ones are errors too. Nodes that cannot
//! be reached from `start` are only a warning ([`Dialplan::warnings`]): the plan still works.
//!
//! [`check`] (`hotline dialplan check`) runs the same load and reports errors and warnings
//! together, each with a hint where one helps, and adds: prompt files missing for the configured
//! language, queue node settings that override the queue's own (warning), dialed numbers equal in
//! E.164 and numbers twice in a list (warnings), dates both a holiday and a make-up working day,
//! overrides hiding a holiday and dates outside 2000-2099 (warnings). It refuses exactly what
//! loading refuses, prompt files aside. [`simulate`] (`hotline dialplan simulate`) walks one call
//! through a plan with the executor, keys given in advance, and says where it ends (a dialed
//! transfer answers, unless `--dial-fails` makes it fail).
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

mod check;
mod condition;
mod dials;
mod duration;
mod e164;
mod error;
mod exec;
pub mod http;
mod model;
mod queue_nodes;
mod read;
pub mod say;
mod schedule;
mod simulate;
mod speech;
mod survey;
mod transfers;
mod validate;
mod yaml;

use std::path::Path;

pub use check::{check, check_file, CheckContext, CheckReport, PromptFiles, QueueDefaults};
pub use condition::{Condition, Pattern, TimeWindow, VariableTest};
pub use dials::{closest_name, DialNode, SourcePos};
pub use duration::{format_duration, parse_duration, DurationError};
pub use e164::{comparable, normalize, CountryCode, E164Error, NumberList};
pub use error::{DialplanError, DialplanErrors, LoadError, Severity};
pub use exec::ConsentAnswer;
pub use exec::RecordingEnd;
pub use exec::{
    CallAttributes, CallInfo, HangupReason, Ivr, IvrAction, IvrInput, IvrOutcome, IvrTimer,
};
pub use http::{CrmFixture, HttpFailure, HttpLookup, HttpMethod, HttpRequest};
pub use model::{
    Assignment, Branch, Collect, Dialplan, Edge, HangupCause, Menu, Node, NodeKind, Number, Play,
    QueueOptions, Rule, Say, SurveyNode, Voicemail, BEEP_PROMPT, DEFAULT_MENU_RETRIES,
    DEFAULT_MENU_TIMEOUT, MAX_COLLECT_DIGITS, MAX_MENU_RETRIES, MAX_MENU_TIMEOUT, MAX_PROFICIENCY,
    MIN_MENU_TIMEOUT, MIN_PROFICIENCY,
};
pub use model::{Consent, NodeRecording, DEFAULT_CONSENT_TIMEOUT};
pub use model::{Dial, Transfer, DEFAULT_DIAL_TIMEOUT, MAX_DIAL_TIMEOUT};
pub use queue_nodes::QueueNode;
pub use read::VERSION;
pub use say::{SayKind, SayLanguage};
pub use schedule::{Hours, Schedule, ScheduleStatus};
pub use simulate::{
    simulate, simulate_with, simulate_with_crm, SimulateOptions, SimulatedCall, Simulation,
    SimulationEnd, Step,
};
pub use speech::SpeechNode;
pub use survey::{
    Survey, SurveyAction, SurveyEnd, SurveyInput, SurveyQuestion, SurveyRun,
    DEFAULT_SURVEY_RETRIES, DEFAULT_SURVEY_TIMEOUT,
};
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
        let surveys = read.surveys.clone();
        let speech = speech::speech_nodes(&read);
        let dials = dials::dial_nodes(&read);
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
            surveys,
            speech,
            dials,
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
