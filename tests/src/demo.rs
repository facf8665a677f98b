//! The demo fleet as `scripts/run` seeds it, with one admin and one user token, and
//! signing in the way a person does.

use crate::browser::Page;
use crate::gateway::{Gateway, built_binary, built_console};

pub const ADMIN: &str = "e2e-admin-secret-0001-0123456789abcdef";
pub const USER: &str = "e2e-user-secret-0001-0123456789abcdef";

/// A gateway serving the release console with the demo data (seeded into the admin's
/// organization).
pub async fn demo_gateway() -> anyhow::Result<Gateway> {
    demo_gateway_with(&[]).await
}

/// [`demo_gateway`] with more `serve` arguments.
pub async fn demo_gateway_with(extra: &[&str]) -> anyhow::Result<Gateway> {
    let console = built_console()?;
    let console = console.to_string_lossy();
    let (admin, user) = (
        format!("e2e:SANDBOX_ADMIN:{ADMIN}"),
        format!("e2e:SANDBOX_USER:{USER}"),
    );
    let mut args = vec![
        "--console-dir",
        &console,
        "--demo",
        "--token",
        &admin,
        "--token",
        &user,
    ];
    args.extend_from_slice(extra);
    Gateway::start(&built_binary()?, &args).await
}

/// Opens `url` (which sends a signed-out browser to the sign-in page) and signs in.
pub async fn sign_in(page: &Page<'_>, url: &str, token: &str) -> anyhow::Result<()> {
    page.0.goto(url).await?;
    page.field("Bearer token").await?.send_keys(token).await?;
    page.button("Sign in").await?.click().await?;
    Ok(())
}
