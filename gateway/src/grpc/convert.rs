//! Between the protobuf messages and the domain's wire types. Both follow the proto3
//! JSON mapping (the domain's serde forms are the JSON API's), so one conversion
//! through JSON serves every message, and the JSON API and gRPC cannot disagree on a
//! field.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tonic::Status;

/// `value` (a domain wire type) as the protobuf message `P`.
pub fn to_proto<T: Serialize, P: DeserializeOwned>(value: &T) -> Result<P, Status> {
    serde_json::to_value(value)
        .and_then(serde_json::from_value)
        .map_err(|e| {
            tracing::error!("converting an answer to protobuf: {e}");
            Status::internal("internal error while encoding the answer")
        })
}

/// The protobuf message `message` as the domain wire type `T`.
pub fn from_proto<P: Serialize, T: DeserializeOwned>(message: &P) -> Result<T, Status> {
    serde_json::to_value(message)
        .and_then(serde_json::from_value)
        .map_err(|e| Status::invalid_argument(format!("the request could not be read: {e}")))
}

/// A request message's set fields as the query parameters the JSON API takes for the
/// same call (SPEC §4: the HTTP mapping names them by their JSON names); repeated
/// fields repeat.
pub fn query_pairs<P: Serialize>(message: &P) -> Vec<(String, String)> {
    let Ok(Value::Object(fields)) = serde_json::to_value(message) else {
        return Vec::new();
    };
    let text = |value: &Value| match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    let mut pairs = Vec::new();
    for (name, value) in fields {
        match &value {
            Value::Array(items) => {
                pairs.extend(items.iter().filter_map(text).map(|v| (name.clone(), v)))
            }
            other => pairs.extend(text(other).map(|v| (name.clone(), v))),
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grpc::proto;

    #[test]
    fn requests_become_the_json_apis_query_parameters() {
        let request = proto::ListAvailableRunnersRequest {
            gpu_type: "H100".into(),
            healthy_only: true,
            page_size: 10,
            view: proto::RunnerView::Full as i32,
            ..Default::default()
        };
        let mut pairs = query_pairs(&request);
        pairs.sort();
        assert_eq!(
            pairs,
            [
                ("gpuType".to_owned(), "H100".to_owned()),
                ("healthyOnly".to_owned(), "true".to_owned()),
                ("pageSize".to_owned(), "10".to_owned()),
                ("view".to_owned(), "RUNNER_VIEW_FULL".to_owned()),
            ]
        );
    }

    #[test]
    fn a_start_request_and_its_answer_cross_both_ways() {
        let request = proto::StartSandboxRequest {
            command: "sh".into(),
            args: vec!["-c".into(), "true".into()],
            container_image: "debian:12".into(),
            profile_names: vec!["web".into()],
            environment_variables: [("A".to_owned(), "b".to_owned())].into(),
            max_lifetime_seconds: 60,
            ..Default::default()
        };
        let domain: sandbox_api::sandbox::StartSandboxRequest = from_proto(&request).unwrap();
        assert_eq!(domain.command, "sh");
        assert_eq!(domain.profile_names, ["web"]);
        assert_eq!(domain.max_lifetime_seconds, 60);
        let back: proto::StartSandboxRequest = to_proto(&domain).unwrap();
        assert_eq!(back, request);
    }

    #[test]
    fn local_extensions_of_an_answer_are_left_out_of_its_message() {
        use sandbox_api::sandbox::{
            GetSandboxResponse, ReservedResources, SandboxDetails, SandboxInfo,
        };
        let answer = GetSandboxResponse {
            info: SandboxInfo {
                sandbox_id: "sb-1".into(),
                unisolated: true,
                ..SandboxInfo::default()
            },
            exit_code: Some(0),
            details: Some(SandboxDetails {
                container_image: "debian:12".into(),
                command: "sh".into(),
                reserved: ReservedResources {
                    cpu_millicores: 500,
                    ..ReservedResources::default()
                },
                ..SandboxDetails::default()
            }),
            ..GetSandboxResponse::default()
        };
        let message: proto::GetSandboxResponse = to_proto(&answer).unwrap();
        assert_eq!(
            message,
            proto::GetSandboxResponse {
                sandbox_id: "sb-1".into(),
                exit_code: Some(0),
                ..Default::default()
            }
        );
    }
}
