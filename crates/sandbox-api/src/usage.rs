//! Usage over time (local decision, in the style of SPEC §4): what a sandbox, a
//! runner's sandboxes or an organization's whole fleet used, measured every few seconds
//! by the gateway and kept for a bounded time, downsampled. Served at
//! `GET /v1beta2/sandboxes/{id}/usage`, `GET /v1beta2/runners/{runner}/usage` and
//! `GET /v1beta2/usage`, oldest point first; the console charts them.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::format::{format_bytes, format_cpu};
use crate::json::is_zero;

/// What was in use at one moment (or, for older points, on average over a minute).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct UsagePoint {
    #[serde(
        with = "crate::json::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub time: Option<OffsetDateTime>,
    #[serde(with = "crate::json::int64", skip_serializing_if = "is_zero")]
    pub cpu_millicores: i64,
    #[serde(with = "crate::json::int64", skip_serializing_if = "is_zero")]
    pub memory_bytes: i64,
    /// How many sandboxes ran (a runner's and the fleet's points only).
    #[serde(skip_serializing_if = "is_zero")]
    pub running_sandboxes: i32,
}

/// Answer of the usage routes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct UsageHistoryResponse {
    /// Oldest first; recent ones every sampling interval, older ones a minute each.
    pub points: Vec<UsagePoint>,
    /// How often the gateway measures.
    #[serde(skip_serializing_if = "is_zero")]
    pub interval_seconds: f64,
}

impl UsageHistoryResponse {
    /// The points from `since` on.
    pub fn since(&self, since: OffsetDateTime) -> impl Iterator<Item = &UsagePoint> {
        self.points
            .iter()
            .filter(move |p| p.time.is_some_and(|t| t >= since))
    }
}

/// The points as chart columns: times (seconds since the epoch), CPU millicores and
/// memory bytes.
pub fn columns<'a>(points: impl Iterator<Item = &'a UsagePoint>) -> [Vec<f64>; 3] {
    let mut columns: [Vec<f64>; 3] = Default::default();
    for point in points {
        let Some(time) = point.time else { continue };
        columns[0].push(time.unix_timestamp_nanos() as f64 / 1e9);
        columns[1].push(point.cpu_millicores as f64);
        columns[2].push(point.memory_bytes as f64);
    }
    columns
}

/// What the latest point says, in words: `"Now 1.0 vCPU and 12.0 MiB"`, with how many
/// sandboxes ran when `counts` (a runner's or the fleet's); `None` without points.
pub fn describe_now(points: &[UsagePoint], counts: bool) -> Option<String> {
    let last = points.last()?;
    let mut text = format!(
        "Now {} and {}",
        format_cpu(last.cpu_millicores),
        format_bytes(last.memory_bytes)
    );
    if counts {
        let running = match last.running_sandboxes {
            1 => "1 sandbox running".to_owned(),
            n => format!("{n} sandboxes running"),
        };
        text = format!("{text}; {running}");
    }
    let peak = points.iter().map(|p| p.cpu_millicores).max().unwrap_or(0);
    if peak > last.cpu_millicores {
        text = format!("{text} (CPU peak {})", format_cpu(peak));
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_latest_point_reads_in_words_and_points_become_columns() {
        let point = |cpu, memory, running| UsagePoint {
            time: Some(OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(cpu)),
            cpu_millicores: cpu,
            memory_bytes: memory,
            running_sandboxes: running,
        };
        let points = [point(1500, 1 << 20, 2), point(1000, 12 << 20, 1)];
        assert_eq!(
            describe_now(&points, true).as_deref(),
            Some("Now 1.0 vCPU and 12.0 MiB; 1 sandbox running (CPU peak 1.5 vCPU)")
        );
        assert_eq!(
            describe_now(&points[..1], false).as_deref(),
            Some("Now 1.5 vCPU and 1.0 MiB")
        );
        assert_eq!(describe_now(&[], false), None);
        let [times, cpu, memory] = columns(points.iter());
        assert_eq!(times, [1500.0, 1000.0]);
        assert_eq!(cpu, [1500.0, 1000.0]);
        assert_eq!(memory, [1048576.0, 12582912.0]);
    }

    use serde_json::json;

    use super::*;

    #[test]
    fn points_travel_in_their_wire_form() {
        let response = UsageHistoryResponse {
            points: vec![UsagePoint {
                time: Some(OffsetDateTime::UNIX_EPOCH),
                cpu_millicores: 950,
                memory_bytes: 1 << 30,
                running_sandboxes: 0,
            }],
            interval_seconds: 2.0,
        };
        let value = serde_json::to_value(&response).unwrap();
        assert_eq!(
            value,
            json!({"points": [{"time": "1970-01-01T00:00:00Z", "cpuMillicores": "950",
                               "memoryBytes": "1073741824"}], "intervalSeconds": 2.0})
        );
        assert_eq!(
            serde_json::from_value::<UsageHistoryResponse>(value).unwrap(),
            response
        );
        assert_eq!(response.since(OffsetDateTime::now_utc()).count(), 0);
    }
}
