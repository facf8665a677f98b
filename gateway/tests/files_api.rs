//! A sandbox's files over the JSON API (SPEC §4 "Files"): written and read in the
//! sandbox's own tree, never outside it, with errors the client maps to its exceptions.

mod common;

use base64::Engine;
use common::*;
use reqwest::StatusCode;
use serde_json::json;

fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

async fn read(
    gateway: &sandbox_e2e::gateway::Gateway,
    id: &str,
    path: &str,
    token: &str,
) -> Answer {
    get(
        gateway,
        &format!("/v1beta2/sandboxes/{id}/files/{path}"),
        token,
    )
    .await
}

#[tokio::test]
async fn files_are_written_and_read_in_the_sandbox_and_never_outside_it() {
    let gateway = gateway(&[]).await;
    runner_with_profiles(&gateway, "local", &[("web", internet_network())]).await;
    wait_until_ready(&gateway, "local").await;
    let started = post(&gateway, "/v1beta2/sandboxes", USER, shell("sleep 600")).await;
    let id = started.body["sandboxId"].as_str().unwrap().to_owned();
    wait_status(&gateway, &id, false).await;
    let files = format!("/v1beta2/sandboxes/{id}/files");

    // Written, then read back and seen by the sandbox's own commands.
    let contents: Vec<u8> = (0..=255).cycle().take(100_000).collect();
    let written = post(
        &gateway,
        &files,
        USER,
        json!({"filepath": "deep/er/data.bin", "fileContents": base64(&contents)}),
    )
    .await;
    assert_eq!(written.status, StatusCode::OK, "{}", written.body);
    assert_eq!(written.body["success"], true);
    let back = read(&gateway, &id, "deep/er/data.bin", USER).await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.body);
    assert_eq!(back.body["fileContents"], base64(&contents));
    let seen = post(
        &gateway,
        &format!("/v1beta2/sandboxes/{id}/exec"),
        USER,
        json!({"command": ["wc", "-c", "deep/er/data.bin"]}),
    )
    .await;
    assert!(
        String::from_utf8_lossy(
            &base64::engine::general_purpose::STANDARD
                .decode(seen.body["result"]["stdout"].as_str().unwrap())
                .unwrap()
        )
        .starts_with("100000 "),
        "{}",
        seen.body
    );

    // Errors name the path, with the reasons the client maps to SandboxFileError.
    let missing = read(&gateway, &id, "no/such/file", USER).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.body);
    assert_eq!(missing.reason(), Some("CWSANDBOX_FILE_NOT_FOUND"));
    assert_eq!(missing.metadata()["filepath"], "no/such/file");
    let directory = read(&gateway, &id, "deep", USER).await;
    assert_eq!(
        directory.reason(),
        Some("CWSANDBOX_FILE_IS_DIRECTORY"),
        "{}",
        directory.body
    );
    let unnamed = post(&gateway, &files, USER, json!({"filepath": ""})).await;
    assert_eq!(unnamed.violation_fields(), ["filepath"], "{}", unnamed.body);

    // The gateway's own files are out of reach, by absolute path or by climbing out of
    // the sandbox's directory: a read finds nothing, and a write lands (if anywhere)
    // in the sandbox's own view, never on the gateway's machine.
    let data_dir = gateway.data_dir().canonicalize().unwrap();
    let database = data_dir.join("gateway.db");
    assert!(database.exists());
    for path in [
        database.to_string_lossy().into_owned(),
        "../../../gateway.db".to_owned(),
    ] {
        let stolen = read(&gateway, &id, &urlencoding(&path), USER).await;
        assert_ne!(stolen.status, StatusCode::OK, "{path}: {}", stolen.body);
        assert!(
            stolen.body.get("fileContents").is_none(),
            "{path}: {}",
            stolen.body
        );
    }
    let planted = data_dir.join("planted.txt");
    for path in [
        planted.to_string_lossy().into_owned(),
        "../../../planted.txt".to_owned(),
    ] {
        let _ = post(
            &gateway,
            &files,
            USER,
            json!({"filepath": path, "fileContents": base64(b"owned")}),
        )
        .await;
        assert!(
            !planted.exists(),
            "{path} reached the gateway's data directory"
        );
    }

    // Another organization does not see the sandbox at all.
    let foreign = read(&gateway, &id, "deep/er/data.bin", OTHER_ADMIN).await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND, "{}", foreign.body);
    assert_eq!(foreign.reason(), Some("CWSANDBOX_SANDBOX_NOT_FOUND"));
}

/// `path` as one URL path segment run (slashes kept, everything else that needs it
/// escaped).
fn urlencoding(path: &str) -> String {
    path.split('/')
        .map(|part| {
            part.bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("/")
}
