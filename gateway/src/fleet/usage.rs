//! Usage you can see (`sandbox_api::usage`): every interval the gateway asks the agents
//! that run active sandboxes what each uses (`AgentHandle::usage`, from the sandbox's
//! cgroup), and keeps a bounded, downsampled history per sandbox, per runner and per
//! organization (the fleet) in memory. Nothing of it is persisted: it is a view of now
//! and the recent past, and starts afresh with the gateway.
//!
//! The bound (local decision): each history keeps its last [`FINE_POINTS`] samples and
//! [`COARSE_POINTS`] one-minute averages before them (10 minutes and 24 hours at the
//! default 2 s interval); at most [`MAX_SANDBOXES`], [`MAX_RUNNERS`] and
//! [`MAX_ORGANIZATIONS`] histories are kept, the least recently active going first, and
//! an ended sandbox's for an hour.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use sandbox_api::usage::{UsageHistoryResponse, UsagePoint};
use time::OffsetDateTime;

use super::AgentRegistry;
use crate::agent::handle::AgentHandle;
use crate::agent::wire::SandboxUsage;
use crate::mutex::lock;
use crate::store::Store;
use crate::store::sandboxes::{self as rows, ActiveSandbox};

/// Samples kept at full resolution per history.
pub const FINE_POINTS: usize = 300;
/// One-minute averages kept before them.
pub const COARSE_POINTS: usize = 1440;
const COARSE_STEP_SECONDS: i64 = 60;
pub const MAX_SANDBOXES: usize = 2048;
pub const MAX_RUNNERS: usize = 1024;
pub const MAX_ORGANIZATIONS: usize = 256;
/// How long an ended sandbox's history stays.
const ENDED_KEPT: Duration = Duration::from_secs(3600);
/// How long a runner's or an organization's history goes on (at zero) after its last
/// sandbox: as long as its oldest averages reach back.
const IDLE_KEPT: Duration = Duration::from_secs(COARSE_POINTS as u64 * COARSE_STEP_SECONDS as u64);

/// One history: recent samples, and minute averages before them.
#[derive(Debug, Default)]
pub struct Series {
    fine: VecDeque<UsagePoint>,
    coarse: VecDeque<UsagePoint>,
    minute: Minute,
}

/// The samples of the minute being averaged.
#[derive(Debug, Default)]
struct Minute {
    start: i64,
    samples: i64,
    cpu: i64,
    memory: i64,
    running: i64,
}

impl Series {
    pub fn push(&mut self, point: UsagePoint) {
        let seconds = point.time.map_or(0, OffsetDateTime::unix_timestamp);
        let start = seconds - seconds.rem_euclid(COARSE_STEP_SECONDS);
        if self.minute.samples > 0 && start != self.minute.start {
            let average = self.minute.average();
            push_bounded(&mut self.coarse, average, COARSE_POINTS);
            self.minute = Minute::default();
        }
        self.minute.add(start, &point);
        push_bounded(&mut self.fine, point, FINE_POINTS);
    }

    /// Every point, oldest first: the averages of the minutes before the first sample
    /// kept, then the samples.
    pub fn points(&self) -> Vec<UsagePoint> {
        let first_fine = self.fine.front().and_then(|p| p.time);
        self.coarse
            .iter()
            .filter(|p| match (p.time, first_fine) {
                (Some(average), Some(first)) => average < first,
                _ => true,
            })
            .chain(self.fine.iter())
            .cloned()
            .collect()
    }

    pub fn latest(&self) -> Option<&UsagePoint> {
        self.fine.back()
    }

    /// How many points it holds (its memory is bounded by this).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.fine.len() + self.coarse.len()
    }
}

impl Minute {
    fn add(&mut self, start: i64, point: &UsagePoint) {
        self.start = start;
        self.samples += 1;
        self.cpu += point.cpu_millicores;
        self.memory += point.memory_bytes;
        self.running += i64::from(point.running_sandboxes);
    }

    fn average(&self) -> UsagePoint {
        let n = self.samples.max(1);
        UsagePoint {
            time: OffsetDateTime::from_unix_timestamp(self.start).ok(),
            cpu_millicores: self.cpu / n,
            memory_bytes: self.memory / n,
            running_sandboxes: i32::try_from(self.running / n).unwrap_or(i32::MAX),
        }
    }
}

fn push_bounded(points: &mut VecDeque<UsagePoint>, point: UsagePoint, bound: usize) {
    if points.len() == bound {
        points.pop_front();
    }
    points.push_back(point);
}

/// Every history the gateway keeps. Cheap to clone: clones share it.
#[derive(Clone)]
pub struct UsageBook {
    inner: Arc<Mutex<Book>>,
    interval: Duration,
}

#[derive(Default)]
struct Book {
    sandboxes: HashMap<String, SandboxHistory>,
    /// By (organization, runner ID).
    runners: HashMap<(String, String), Tracked>,
    /// By organization.
    fleets: HashMap<String, Tracked>,
}

struct SandboxHistory {
    /// CPU time at the last sample, and when: the next sample's rate is from it.
    last_cpu: Option<(Instant, u64)>,
    tracked: Tracked,
}

/// A history and when its object was last active.
#[derive(Default)]
struct Tracked {
    series: Series,
    active_at: Option<Instant>,
}

/// What one sample round measured, before it is recorded.
pub struct Round {
    pub at: OffsetDateTime,
    pub instant: Instant,
    pub active: Vec<ActiveSandbox>,
    pub measured: Vec<SandboxUsage>,
}

impl UsageBook {
    pub fn new(interval: Duration) -> UsageBook {
        UsageBook {
            inner: Arc::default(),
            interval,
        }
    }

    /// Records a round: each measured sandbox's CPU rate since its last sample and its
    /// memory; each runner's and organization's sums (with zero for those whose last
    /// sandbox has ended, while they are kept).
    pub fn record(&self, round: Round) {
        let mut book = lock(&self.inner);
        let measured: HashMap<&str, &SandboxUsage> = round
            .measured
            .iter()
            .map(|m| (m.sandbox_id.as_str(), m))
            .collect();
        let mut runners: HashMap<(String, String), UsagePoint> = HashMap::new();
        let mut fleets: HashMap<String, UsagePoint> = HashMap::new();
        for sandbox in &round.active {
            let point = measured.get(sandbox.id.as_str()).and_then(|usage| {
                let history =
                    book.sandboxes
                        .entry(sandbox.id.clone())
                        .or_insert_with(|| SandboxHistory {
                            last_cpu: None,
                            tracked: Tracked::default(),
                        });
                let previous = history
                    .last_cpu
                    .replace((round.instant, usage.cpu_nanoseconds));
                history.tracked.active_at = Some(round.instant);
                // The first sample has nothing to take a rate from.
                let (then, cpu_then) = previous?;
                let elapsed = round.instant.duration_since(then).as_nanos().max(1);
                let used = u128::from(usage.cpu_nanoseconds.saturating_sub(cpu_then));
                let point = UsagePoint {
                    time: Some(round.at),
                    cpu_millicores: i64::try_from(used * 1000 / elapsed).unwrap_or(i64::MAX),
                    memory_bytes: i64::try_from(usage.memory_bytes).unwrap_or(i64::MAX),
                    running_sandboxes: 0,
                };
                history.tracked.series.push(point.clone());
                Some(point)
            });
            let point = point.unwrap_or_default();
            for total in [
                runners
                    .entry((sandbox.organization.clone(), sandbox.runner_id.clone()))
                    .or_default(),
                fleets.entry(sandbox.organization.clone()).or_default(),
            ] {
                total.cpu_millicores += point.cpu_millicores;
                total.memory_bytes += point.memory_bytes;
                total.running_sandboxes += 1;
            }
        }
        add_totals(&mut book.runners, runners, &round);
        add_totals(&mut book.fleets, fleets, &round);
        forget_old(&mut book, round.instant);
    }

    pub fn sandbox(&self, id: &str) -> Vec<UsagePoint> {
        lock(&self.inner)
            .sandboxes
            .get(id)
            .map(|h| h.tracked.series.points())
            .unwrap_or_default()
    }

    /// A sandbox's latest sample, if it is recent (within three intervals).
    pub fn sandbox_now(&self, id: &str) -> Option<UsagePoint> {
        let book = lock(&self.inner);
        let history = book.sandboxes.get(id)?;
        let (at, _) = history.last_cpu?;
        (at.elapsed() < self.interval * 3)
            .then(|| history.tracked.series.latest().cloned())
            .flatten()
    }

    pub fn runner(&self, organization: &str, runner_id: &str) -> Vec<UsagePoint> {
        lock(&self.inner)
            .runners
            .get(&(organization.to_owned(), runner_id.to_owned()))
            .map(|t| t.series.points())
            .unwrap_or_default()
    }

    pub fn fleet(&self, organization: &str) -> Vec<UsagePoint> {
        lock(&self.inner)
            .fleets
            .get(organization)
            .map(|t| t.series.points())
            .unwrap_or_default()
    }

    /// The answer for `points`.
    pub fn response(&self, points: Vec<UsagePoint>) -> UsageHistoryResponse {
        UsageHistoryResponse {
            points,
            interval_seconds: self.interval.as_secs_f64(),
        }
    }

    /// How many histories and points are held (what the memory bound is about).
    #[cfg(test)]
    fn size(&self) -> (usize, usize) {
        let book = lock(&self.inner);
        let series = book
            .sandboxes
            .values()
            .map(|h| &h.tracked)
            .chain(book.runners.values())
            .chain(book.fleets.values());
        series.fold((0, 0), |(count, points), t| {
            (count + 1, points + t.series.len())
        })
    }
}

/// Adds this round's totals, and zero for kept histories with nothing active now.
fn add_totals<K: Clone + Eq + std::hash::Hash>(
    histories: &mut HashMap<K, Tracked>,
    mut totals: HashMap<K, UsagePoint>,
    round: &Round,
) {
    for (key, tracked) in histories.iter_mut() {
        let mut point = totals.remove(key).unwrap_or_default();
        if point.running_sandboxes > 0 {
            tracked.active_at = Some(round.instant);
        }
        point.time = Some(round.at);
        tracked.series.push(point);
    }
    for (key, mut point) in totals {
        point.time = Some(round.at);
        let mut tracked = Tracked {
            active_at: Some(round.instant),
            ..Tracked::default()
        };
        tracked.series.push(point);
        histories.insert(key, tracked);
    }
}

/// Drops histories past their time, then the least recently active past the caps.
fn forget_old(book: &mut Book, now: Instant) {
    let recent = |tracked: &Tracked, kept: Duration| {
        tracked
            .active_at
            .is_some_and(|at| now.duration_since(at) < kept)
    };
    book.sandboxes.retain(|_, h| recent(&h.tracked, ENDED_KEPT));
    book.runners.retain(|_, t| recent(t, IDLE_KEPT));
    book.fleets.retain(|_, t| recent(t, IDLE_KEPT));
    cap(&mut book.sandboxes, MAX_SANDBOXES, |h| h.tracked.active_at);
    cap(&mut book.runners, MAX_RUNNERS, |t| t.active_at);
    cap(&mut book.fleets, MAX_ORGANIZATIONS, |t| t.active_at);
}

fn cap<K: Clone + Eq + std::hash::Hash, V>(
    map: &mut HashMap<K, V>,
    most: usize,
    active_at: impl Fn(&V) -> Option<Instant>,
) {
    if map.len() <= most {
        return;
    }
    let mut by_age: Vec<(Option<Instant>, K)> =
        map.iter().map(|(k, v)| (active_at(v), k.clone())).collect();
    by_age.sort_by_key(|(at, _)| *at);
    for (_, key) in by_age.into_iter().take(map.len() - most) {
        map.remove(&key);
    }
}

/// Measures every interval, for as long as the gateway runs.
pub fn sample_periodically(store: Store, agents: AgentRegistry, book: UsageBook) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(book.interval);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        loop {
            every.tick().await;
            let active = match store.read(rows::active).await {
                Ok(active) => active,
                Err(error) => {
                    // Said once, not every interval.
                    if !std::mem::replace(&mut failing, true) {
                        tracing::warn!("measuring usage: reading the active sandboxes: {error}");
                    }
                    continue;
                }
            };
            failing = false;
            let measured = measure(&agents, &active).await;
            book.record(Round {
                at: OffsetDateTime::now_utc(),
                instant: Instant::now(),
                active,
                measured,
            });
        }
    });
}

/// Asks each agent that runs an active sandbox, once, what its sandboxes use.
async fn measure(agents: &AgentRegistry, active: &[ActiveSandbox]) -> Vec<SandboxUsage> {
    let mut asked: Vec<AgentHandle> = Vec::new();
    for sandbox in active {
        if let Some(agent) = agents.agent(&sandbox.runner_uuid)
            && !asked.iter().any(|a| a.same_agent(&agent))
        {
            asked.push(agent);
        }
    }
    join_all(asked.iter().map(AgentHandle::usage))
        .await
        .into_iter()
        .flat_map(|report| report.sandboxes)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn active(id: &str, runner: &str) -> ActiveSandbox {
        ActiveSandbox {
            id: id.into(),
            organization: "acme".into(),
            runner_uuid: format!("u-{runner}"),
            runner_id: runner.into(),
        }
    }

    fn usage(id: &str, cpu_seconds: f64, memory: u64) -> SandboxUsage {
        SandboxUsage {
            sandbox_id: id.into(),
            cpu_nanoseconds: (cpu_seconds * 1e9) as u64,
            memory_bytes: memory,
        }
    }

    #[test]
    fn cpu_is_a_rate_between_samples_and_runners_and_the_fleet_add_up() {
        let book = UsageBook::new(Duration::from_secs(2));
        let (start, at) = (Instant::now(), OffsetDateTime::now_utc());
        let both = vec![active("a", "r1"), active("b", "r1")];
        book.record(Round {
            at,
            instant: start,
            active: both.clone(),
            measured: vec![usage("a", 10.0, 100), usage("b", 0.0, 50)],
        });
        assert!(book.sandbox("a").is_empty(), "no rate from one sample");
        book.record(Round {
            at: at + Duration::from_secs(2),
            instant: start + Duration::from_secs(2),
            active: both,
            measured: vec![usage("a", 11.5, 200), usage("b", 0.5, 60)],
        });
        let a = book.sandbox("a");
        assert_eq!((a[0].cpu_millicores, a[0].memory_bytes), (750, 200));
        let runner = book.runner("acme", "r1");
        assert_eq!(runner.len(), 2);
        let last = runner.last().unwrap();
        assert_eq!(
            (
                last.cpu_millicores,
                last.memory_bytes,
                last.running_sandboxes
            ),
            (1000, 260, 2)
        );
        assert_eq!(book.fleet("acme").last().unwrap().cpu_millicores, 1000);
        assert!(book.fleet("other").is_empty());

        // The sandboxes end: the runner and the fleet go on at zero.
        book.record(Round {
            at: at + Duration::from_secs(4),
            instant: start + Duration::from_secs(4),
            active: vec![],
            measured: vec![],
        });
        let last = book.runner("acme", "r1").pop().unwrap();
        assert_eq!((last.cpu_millicores, last.running_sandboxes), (0, 0));
        assert_eq!(
            book.sandbox("a").len(),
            1,
            "an ended sandbox's history stays"
        );
    }

    #[test]
    fn a_series_keeps_recent_samples_and_minute_averages_before_them() {
        let mut series = Series::default();
        let start = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        // Three days of samples every 2 s.
        let samples = 3 * 86_400 / 2;
        for i in 0..samples {
            series.push(UsagePoint {
                time: Some(start + Duration::from_secs(2 * i)),
                cpu_millicores: (i % 2) as i64 * 1000,
                memory_bytes: 1 << 20,
                running_sandboxes: 1,
            });
            assert!(series.len() <= FINE_POINTS + COARSE_POINTS);
        }
        assert_eq!(series.len(), FINE_POINTS + COARSE_POINTS);
        // What README says a history costs: at most 1740 points of 40 bytes.
        assert!(std::mem::size_of::<UsagePoint>() <= 40);
        let points = series.points();
        let times: Vec<_> = points.iter().map(|p| p.time.unwrap()).collect();
        assert!(
            times.windows(2).all(|w| w[0] < w[1]),
            "oldest first, no overlap"
        );
        // The averages before the samples: 30 samples a minute, half at 1000.
        let average = &points[0];
        assert_eq!(average.cpu_millicores, 500);
        assert_eq!(average.time.unwrap().unix_timestamp() % 60, 0);
        let span = *times.last().unwrap() - times[0];
        assert!(span >= time::Duration::hours(23), "a day back: {span}");
    }

    #[test]
    fn histories_past_their_caps_go_least_recently_active_first() {
        let book = UsageBook::new(Duration::from_secs(2));
        let (start, at) = (Instant::now(), OffsetDateTime::now_utc());
        for round in 0..2u64 {
            let active: Vec<_> = (0..MAX_SANDBOXES + 10)
                .map(|i| active(&format!("s{i}"), "r"))
                .collect();
            let measured = (0..MAX_SANDBOXES + 10)
                .map(|i| usage(&format!("s{i}"), round as f64, 1))
                .collect();
            book.record(Round {
                at: at + Duration::from_secs(round * 2),
                instant: start + Duration::from_secs(round * 2),
                active,
                measured,
            });
        }
        let (histories, points) = book.size();
        assert_eq!(
            histories,
            MAX_SANDBOXES + 2,
            "sandboxes capped, plus runner and fleet"
        );
        assert!(points <= histories * (FINE_POINTS + COARSE_POINTS));
    }
}
