//! Network isolation, checked by connecting to a listener the test opens on the host's
//! loopback.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::net::TcpListener;

use super::super::{
    ExecTarget, Isolation, LaunchError, NetworkIsolation, exec, launch, no_network_available,
};
use super::{Dirs, within};

/// A bash command line that connects to 127.0.0.1:`port` and succeeds if it can.
fn connect_to(port: u16) -> Vec<String> {
    vec![
        "bash".to_owned(),
        "-c".to_owned(),
        format!("exec 3<>/dev/tcp/127.0.0.1/{port}"),
    ]
}

async fn exec_with(
    dirs: &Dirs,
    command: &[String],
    network: NetworkIsolation,
) -> Result<Option<i32>, LaunchError> {
    std::fs::create_dir_all(&dirs.work).unwrap();
    let output = within(
        "the command to end",
        exec(
            ExecTarget {
                id: "test-sandbox",
                work_dir: &dirs.work,
                network,
                isolation: &Isolation::None,
            },
            command,
            &BTreeMap::new(),
            Duration::from_secs(60),
        ),
    )
    .await?;
    Ok(output.exit_code)
}

#[tokio::test]
async fn without_network_exec_cannot_reach_a_listener_on_the_hosts_loopback_that_host_network_reaches()
 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let connect = connect_to(listener.local_addr().unwrap().port());
    let dirs = Dirs::new();

    let with_host_network = exec_with(&dirs, &connect, NetworkIsolation::Host).await;
    let without_network = exec_with(&dirs, &connect, NetworkIsolation::None).await;

    assert_eq!(
        with_host_network.unwrap(),
        Some(0),
        "the listener is reachable"
    );
    if no_network_available() {
        let exit_code = without_network.unwrap();
        assert!(
            exit_code.is_some_and(|code| code != 0),
            "connecting without network must fail, got exit code {exit_code:?}"
        );
    } else {
        assert!(
            matches!(
                without_network,
                Err(LaunchError::NetworkIsolationUnavailable)
            ),
            "{without_network:?}"
        );
    }
}

async fn sandbox_exit_code(
    command: &[String],
    network: NetworkIsolation,
) -> Result<Option<i32>, LaunchError> {
    let dirs = Dirs::new();
    let args: Vec<&str> = command[1..].iter().map(String::as_str).collect();
    let mut spec = dirs.spec(&command[0], &args);
    spec.network = network;
    let sandbox = launch(spec).await?;
    Ok(within("the sandbox to end", sandbox.wait()).await.exit_code)
}

#[tokio::test]
async fn without_network_a_sandbox_cannot_reach_a_listener_on_the_hosts_loopback() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let connect = connect_to(listener.local_addr().unwrap().port());

    let with_host_network = sandbox_exit_code(&connect, NetworkIsolation::Host).await;
    let without_network = sandbox_exit_code(&connect, NetworkIsolation::None).await;

    assert_eq!(
        with_host_network.unwrap(),
        Some(0),
        "the listener is reachable"
    );
    if no_network_available() {
        let exit_code = without_network.unwrap();
        assert!(
            exit_code.is_some_and(|code| code != 0),
            "connecting without network must fail, got exit code {exit_code:?}"
        );
    } else {
        assert!(
            matches!(
                without_network,
                Err(LaunchError::NetworkIsolationUnavailable)
            ),
            "{without_network:?}"
        );
    }
}
