//! Reading the projection: snapshots over the configured windows, with center-wide totals.

use std::collections::BTreeMap;

use hotline_events::Timestamp;

use super::KpiProjection;
use crate::config::duration_ms;
use crate::counters::{AgentCounters, Merge, QueueCounters};
use crate::report::{
    ms_of, ts_of, AgentKpis, AgentReport, KpiSnapshot, PeriodKpis, QueueKpis, QueueReport, Totals,
    Window, Windowed,
};
use crate::series::{midnight_ms, Granularity, Series};

/// Running sums of one window over several queues or agents.
struct Aggregate<C> {
    window: Window,
    from: i64,
    sum: C,
}

fn fold<C: Merge>(acc: &mut Vec<Aggregate<C>>, i: usize, window: Window, from: i64, c: &C) {
    match acc.get_mut(i) {
        Some(a) => {
            a.from = a.from.min(from);
            a.sum.merge(c);
        }
        None => acc.push(Aggregate {
            window,
            from,
            sum: c.clone(),
        }),
    }
}

impl KpiProjection {
    /// The windows of a snapshot: each rolling window (with its length in buckets), then
    /// the current day, week and month.
    fn windows(&self) -> Vec<(Window, i64)> {
        let bucket = self.config.bucket_ms();
        let mut out: Vec<(Window, i64)> = self
            .config
            .rolling_windows
            .iter()
            .map(|w| {
                let n = ((duration_ms(*w) + bucket - 1) / bucket).max(1);
                let seconds = u64::try_from(n.saturating_mul(bucket) / 1000).unwrap_or(0);
                (Window::Rolling { seconds }, n)
            })
            .collect();
        out.extend(Granularity::ALL.map(|g| (Window::of(g), 0)));
        out
    }

    pub(super) fn threshold_ms(&self, queue: &str) -> u64 {
        u64::try_from(duration_ms(
            self.config.queue(queue).service_level_threshold,
        ))
        .unwrap_or(u64::MAX)
    }

    /// The KPIs of every queue and agent over the live rolling windows and the current
    /// day, week and month, as of `now` (wall clock, passed in), plus center-wide totals.
    /// Agents' current state counts up to `now`.
    pub fn snapshot(&self, now: Timestamp) -> KpiSnapshot {
        let now_ms = ms_of(&now);
        let windows = self.windows();
        let mut queues = BTreeMap::new();
        let mut all_queues: Vec<Aggregate<QueueCounters>> = Vec::new();
        for (name, series) in &self.queues {
            let t_ms = self.threshold_ms(name);
            let mut out = Vec::new();
            for (i, (w, n)) in windows.iter().enumerate() {
                let (from, c) = window_sum(series, *w, *n, now_ms);
                fold(&mut all_queues, i, *w, from, &c);
                out.push(Windowed {
                    window: *w,
                    from: ts_of(from),
                    to: now,
                    kpis: QueueKpis::compute(&c, &self.defs, Some(t_ms)),
                });
            }
            let report = QueueReport {
                utc_offset: offset_text(series.offset()),
                short_abandon_threshold_ms: self.config.short_abandon_ms(name),
                windows: out,
            };
            queues.insert(name.clone(), report);
        }
        let mut agents = BTreeMap::new();
        let mut all_agents: Vec<Aggregate<AgentCounters>> = Vec::new();
        for (name, a) in &self.agents {
            let mut out = Vec::new();
            for (i, (w, n)) in windows.iter().enumerate() {
                let (from, mut c) = window_sum(&a.series, *w, *n, now_ms);
                let open = u64::try_from(now_ms - a.since.max(from)).unwrap_or(0);
                c.add_state_time(a.state, a.reason.as_deref(), open);
                fold(&mut all_agents, i, *w, from, &c);
                out.push(Windowed {
                    window: *w,
                    from: ts_of(from),
                    to: now,
                    kpis: AgentKpis::compute(&c, &self.defs),
                });
            }
            let report = AgentReport {
                state: a.state,
                since: ts_of(a.since),
                reason: a.reason.clone(),
                windows: out,
            };
            agents.insert(name.clone(), report);
        }
        // One threshold for the totals only when every queue shares it.
        let mut thresholds = self.queues.keys().map(|q| self.threshold_ms(q));
        let first = thresholds.next();
        let shared = first.filter(|t| thresholds.all(|u| u == *t));
        let totals = Totals {
            calls: windows
                .iter()
                .map(|(w, n)| {
                    let (from, kpis) = window_sum(&self.calls_series, *w, *n, now_ms);
                    Windowed {
                        window: *w,
                        from: ts_of(from),
                        to: now,
                        kpis,
                    }
                })
                .collect(),
            queues: all_queues
                .into_iter()
                .map(|a| Windowed {
                    window: a.window,
                    from: ts_of(a.from),
                    to: now,
                    kpis: QueueKpis::compute(&a.sum, &self.defs, shared),
                })
                .collect(),
            agents: all_agents
                .into_iter()
                .map(|a| Windowed {
                    window: a.window,
                    from: ts_of(a.from),
                    to: now,
                    kpis: AgentKpis::compute(&a.sum, &self.defs),
                })
                .collect(),
        };
        let mut calls = self.totals;
        calls.in_progress = self.calls.len() as u64;
        KpiSnapshot {
            at: now,
            definitions: self.defs.clone(),
            calls,
            totals,
            queues,
            agents,
        }
    }
}

fn window_sum<C: Merge>(series: &Series<C>, w: Window, buckets: i64, now_ms: i64) -> (i64, C) {
    match w {
        Window::Rolling { .. } => series.rolling(now_ms, usize::try_from(buckets).unwrap_or(1)),
        Window::Day | Window::Week | Window::Month => {
            let g = match w {
                Window::Day => Granularity::Day,
                Window::Week => Granularity::Week,
                _ => Granularity::Month,
            };
            let (start, c) = series.current(now_ms, g);
            (midnight_ms(start, series.offset()), c)
        }
    }
}

pub(super) fn history<C: Merge, K>(
    series: &Series<C>,
    g: Granularity,
    f: impl Fn(&C) -> K,
) -> Vec<PeriodKpis<K>> {
    series
        .history(g)
        .map(|(start, c)| PeriodKpis {
            granularity: g,
            period: start.to_string(),
            from: ts_of(midnight_ms(start, series.offset())),
            to: ts_of(midnight_ms(g.next_start(start), series.offset())),
            kpis: f(c),
        })
        .collect()
}

fn offset_text(o: time::UtcOffset) -> String {
    let (h, m, _) = o.as_hms();
    let sign = if h < 0 || m < 0 { '-' } else { '+' };
    format!("{sign}{:02}:{:02}", h.unsigned_abs(), m.unsigned_abs())
}
