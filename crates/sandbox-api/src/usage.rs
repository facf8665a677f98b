//! Usage over time (local decision, in the style of SPEC §4): what a sandbox, a
//! runner's sandboxes or an organization's whole fleet used, measured every few seconds
//! by the gateway and kept for a bounded time, downsampled. Served at
//! `GET /v1beta2/sandboxes/{id}/usage`, `GET /v1beta2/runners/{runner}/usage` and
//! `GET /v1beta2/usage`, oldest point first; the console charts them.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

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

#[cfg(test)]
mod tests {
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
