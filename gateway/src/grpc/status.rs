//! Errors as gRPC clients expect them: the status code, the message, and
//! `google.rpc.Status` details (`ErrorInfo` with the reason in domain `cwsandbox.com`,
//! `BadRequest` field violations) in `grpc-status-details-bin`.

use std::collections::HashMap;

use sandbox_api::error::Detail;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::error::ApiError;

/// `error` as a gRPC status. The domain's codes are gRPC's, number for number.
pub fn to_status(error: ApiError) -> Status {
    let status = error.0;
    let code = Code::from_i32(status.code as i32);
    let mut details = ErrorDetails::new();
    for detail in &status.details {
        match detail {
            Detail::ErrorInfo(info) => {
                details.set_error_info(
                    info.reason.clone(),
                    info.domain.clone(),
                    info.metadata
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect::<HashMap<_, _>>(),
                );
            }
            Detail::BadRequest(bad) => {
                for violation in &bad.field_violations {
                    details.add_bad_request_violation(
                        violation.field.clone(),
                        violation.description.clone(),
                    );
                }
            }
            Detail::Unrecognized => {}
        }
    }
    Status::with_error_details(code, status.message, details)
}

#[cfg(test)]
mod tests {
    use sandbox_api::error::Reason;
    use sandbox_api::violation::Violation;

    use super::*;

    #[test]
    fn the_reason_and_field_violations_travel_as_details() {
        let error = ApiError::invalid(&[Violation::error("command", "is required")]);
        let status = to_status(error);
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(status.message(), "command: is required");
        let details = status.get_error_details();
        let info = details.error_info().unwrap();
        assert_eq!(info.reason, Reason::InvalidRequest.as_str());
        assert_eq!(info.domain, "cwsandbox.com");
        let violations = &details.bad_request().unwrap().field_violations;
        assert_eq!(violations[0].field, "command");
    }
}
