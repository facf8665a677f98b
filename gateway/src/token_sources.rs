//! Where the gateway's and agents' bearer tokens come from. Secrets on a command line are
//! readable by every process on the machine (`/proc/PID/cmdline`), so the lasting ways
//! are a private file and the environment; `--token` stays for quick tries and says so.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use anyhow::{Context, bail};

use crate::cli::TokenGrant;

/// The environment variable that holds `serve`'s tokens, one `ORG:ROLE:SECRET` a line.
pub const GATEWAY_TOKENS_VARIABLE: &str = "SANDBOX_GATEWAY_TOKENS";

/// Every token `serve` was given: `--token` flags, `--token-file`, and
/// `SANDBOX_GATEWAY_TOKENS` (`environment` is its value, if set).
pub fn gateway_tokens(
    flags: &[TokenGrant],
    file: Option<&Path>,
    environment: Option<&str>,
) -> anyhow::Result<Vec<TokenGrant>> {
    if !flags.is_empty() {
        tracing::warn!(
            "--token puts secrets where every process on this machine can read them \
             (/proc/PID/cmdline); use --token-file or {GATEWAY_TOKENS_VARIABLE} instead"
        );
    }
    let mut grants = flags.to_vec();
    if let Some(path) = file {
        let text = read_private(path)?;
        grants.extend(parse_lines(&text).with_context(|| format!("in {}", path.display()))?);
    }
    if let Some(text) = environment {
        grants.extend(parse_lines(text).with_context(|| format!("in {GATEWAY_TOKENS_VARIABLE}"))?);
    }
    Ok(grants)
}

/// The one secret of `agent`: `--token`, `--token-file` or `SANDBOX_AGENT_TOKEN` (clap
/// reads the variable into `flag_or_environment`).
pub fn agent_token(
    flag_or_environment: Option<&str>,
    file: Option<&Path>,
) -> anyhow::Result<String> {
    let secret = match (flag_or_environment, file) {
        (Some(secret), None) => secret.trim().to_owned(),
        (None, Some(path)) => read_private(path)?.trim().to_owned(),
        (Some(_), Some(_)) => bail!("give the agent's token once: --token-file or the environment"),
        (None, None) => {
            bail!("the agent needs a token: --token-file PATH or SANDBOX_AGENT_TOKEN")
        }
    };
    if secret.is_empty() || secret.contains(char::is_whitespace) {
        bail!("the agent's token is empty or holds whitespace");
    }
    Ok(secret)
}

/// A secrets file's text, refused when anyone but its owner may read or write it.
fn read_private(path: &Path) -> anyhow::Result<String> {
    let metadata =
        std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    let mode = metadata.permissions().mode();
    if mode & 0o077 != 0 {
        bail!(
            "{} is readable or writable by others (mode {:o}): it holds secrets; \
             chmod 600 it",
            path.display(),
            mode & 0o777
        );
    }
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

/// `ORG:ROLE:SECRET` lines; blank lines and `#` comments are skipped. A bad line is named
/// by number (never quoted: it may hold a secret).
fn parse_lines(text: &str) -> anyhow::Result<Vec<TokenGrant>> {
    text.lines()
        .enumerate()
        .map(|(index, line)| (index + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
        .map(|(number, line)| {
            line.parse::<TokenGrant>()
                .map_err(|problem| anyhow::anyhow!("line {number}: {problem}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn lines_skip_comments_and_name_bad_lines_by_number_only() {
        let grants = parse_lines(&format!(
            "# tokens\n\nacme:SANDBOX_ADMIN:{SECRET}\n  acme:SANDBOX_USER:{SECRET}x  \n"
        ))
        .unwrap();
        assert_eq!(grants.len(), 2);
        assert_eq!(grants[1].secret, format!("{SECRET}x"));

        let problem = parse_lines("acme:SANDBOX_USER:short-secret-here\n")
            .unwrap_err()
            .to_string();
        assert!(problem.starts_with("line 1:"), "{problem}");
        assert!(!problem.contains("short-secret-here"), "{problem}");
    }

    #[test]
    fn files_readable_by_others_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens");
        std::fs::write(&path, format!("acme:SANDBOX_ADMIN:{SECRET}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let problem = gateway_tokens(&[], Some(&path), None).unwrap_err();
        assert!(format!("{problem:#}").contains("chmod 600"), "{problem:#}");

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let grants =
            gateway_tokens(&[], Some(&path), Some(&format!("b:SANDBOX_USER:{SECRET}"))).unwrap();
        assert_eq!(
            grants
                .iter()
                .map(|g| g.organization.as_str())
                .collect::<Vec<_>>(),
            ["acme", "b"]
        );
    }

    #[test]
    fn an_agent_takes_exactly_one_token() {
        assert_eq!(agent_token(Some(" s3cret\n"), None).unwrap(), "s3cret");
        assert!(agent_token(None, None).is_err());
        assert!(agent_token(Some("a b"), None).is_err());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "s3cret\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(agent_token(None, Some(&path)).unwrap(), "s3cret");
        assert!(agent_token(Some("x"), Some(&path)).is_err());
    }
}
