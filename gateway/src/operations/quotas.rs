//! The gateway's quotas: what one organization may hold at once, so that one user cannot
//! take the machine from everyone (each exec holds up to 16 MiB per stream of output in
//! memory; each sandbox holds files, pipes and a supervisor). Each quota is a `serve`
//! flag, and a refusal names it and its value.

use std::collections::HashMap;
use std::fmt::Display;
use std::sync::Arc;

use sandbox_api::error::{Code, Reason, Status};

use crate::error::ApiError;
use crate::mutex::lock;

/// RESOURCE_EXHAUSTED naming the quota's flag and its limit.
pub fn exceeded(flag: &str, limit: impl Display, what: &str) -> ApiError {
    let limit = limit.to_string();
    ApiError(
        Status::new(
            Code::ResourceExhausted,
            format!("{what}: the limit is {limit} (--{flag})"),
        )
        .with_reason(
            Reason::QuotaExceeded,
            [
                ("quota".to_owned(), flag.to_owned()),
                ("limit".to_owned(), limit),
            ]
            .into(),
        ),
    )
}

/// Execs running now, per sandbox and per organization, within their limits.
#[derive(Clone, Debug)]
pub struct ExecSlots {
    per_sandbox: u32,
    per_organization: u32,
    running: Arc<std::sync::Mutex<Running>>,
}

#[derive(Debug, Default)]
struct Running {
    by_sandbox: HashMap<String, u32>,
    by_organization: HashMap<String, u32>,
}

impl ExecSlots {
    pub fn new(per_sandbox: u32, per_organization: u32) -> ExecSlots {
        ExecSlots {
            per_sandbox,
            per_organization,
            running: Arc::default(),
        }
    }

    /// A slot for one exec in `sandbox` of `organization`, held until the permit drops;
    /// refused when either limit is reached.
    pub fn take(&self, organization: &str, sandbox: &str) -> Result<ExecPermit, ApiError> {
        let mut running = lock(&self.running);
        let in_sandbox = running.by_sandbox.get(sandbox).copied().unwrap_or(0);
        if in_sandbox >= self.per_sandbox {
            return Err(exceeded(
                "max-execs-per-sandbox",
                self.per_sandbox,
                "this sandbox already runs as many commands as it may at once",
            ));
        }
        let in_organization = running
            .by_organization
            .get(organization)
            .copied()
            .unwrap_or(0);
        if in_organization >= self.per_organization {
            return Err(exceeded(
                "max-execs-per-org",
                self.per_organization,
                "your organization already runs as many commands as it may at once",
            ));
        }
        *running.by_sandbox.entry(sandbox.to_owned()).or_default() += 1;
        *running
            .by_organization
            .entry(organization.to_owned())
            .or_default() += 1;
        Ok(ExecPermit {
            slots: self.clone(),
            organization: organization.to_owned(),
            sandbox: sandbox.to_owned(),
        })
    }
}

/// One running exec's slot; dropping it frees the slot, however the exec ended.
#[derive(Debug)]
pub struct ExecPermit {
    slots: ExecSlots,
    organization: String,
    sandbox: String,
}

impl Drop for ExecPermit {
    fn drop(&mut self) {
        let mut running = lock(&self.slots.running);
        release(&mut running.by_sandbox, &self.sandbox);
        release(&mut running.by_organization, &self.organization);
    }
}

/// One fewer under `key`; keys at zero are removed so that the maps stay small.
fn release(counts: &mut HashMap<String, u32>, key: &str) {
    if let Some(count) = counts.get_mut(key) {
        *count -= 1;
        if *count == 0 {
            counts.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_limited_per_sandbox_and_per_organization_and_come_back() {
        let slots = ExecSlots::new(2, 3);
        let a1 = slots.take("acme", "a").unwrap();
        let _a2 = slots.take("acme", "a").unwrap();
        let refused = slots.take("acme", "a").unwrap_err();
        assert_eq!(refused.0.code, Code::ResourceExhausted);
        assert!(
            refused.0.message.contains("--max-execs-per-sandbox"),
            "{}",
            refused.0.message
        );

        let _b1 = slots.take("acme", "b").unwrap();
        let refused = slots.take("acme", "c").unwrap_err();
        assert!(
            refused.0.message.contains("the limit is 3"),
            "{}",
            refused.0.message
        );
        assert_eq!(refused.0.http_status(), 429);
        // Another organization has its own count.
        let _other = slots.take("other", "z").unwrap();

        drop(a1);
        assert!(slots.take("acme", "c").is_ok());
        assert!(
            !lock(&slots.running).by_sandbox.contains_key("c"),
            "released at drop"
        );
    }
}
