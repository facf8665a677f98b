//! A TCP proxy in front of a gateway that cuts every log stream after a set number of
//! response bytes, the way a flaky network does, so tests can check that the console
//! resumes from where it was and loses or repeats nothing. Everything else passes
//! through untouched.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

pub struct CuttingProxy {
    /// `http://127.0.0.1:PORT`: open the console here instead of at the gateway.
    pub url: String,
    cuts: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl CuttingProxy {
    /// Proxies to `upstream` (`host:port`), cutting each log response after
    /// `cut_after` bytes.
    pub async fn start(upstream: &str, cut_after: usize) -> anyhow::Result<CuttingProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let cuts = Arc::new(AtomicUsize::new(0));
        let (upstream, counter) = (upstream.to_owned(), cuts.clone());
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (upstream, counter) = (upstream.clone(), counter.clone());
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(&upstream).await {
                        relay(client, server, cut_after, &counter).await;
                    }
                });
            }
        });
        Ok(CuttingProxy { url, cuts, task })
    }

    /// How many log streams it has cut so far.
    pub fn cuts(&self) -> usize {
        self.cuts.load(Ordering::SeqCst)
    }
}

impl Drop for CuttingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Copies both ways; once the client has asked for a log on this connection, the
/// answer is cut `cut_after` bytes later by closing both sides.
async fn relay(client: TcpStream, server: TcpStream, cut_after: usize, cuts: &AtomicUsize) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let asked_for_logs = Arc::new(tokio::sync::Notify::new());
    let asked = asked_for_logs.clone();
    let upstream = tokio::spawn(async move {
        let mut buffer = vec![0u8; 16 * 1024];
        let mut seen = Vec::new();
        while let Ok(n) = client_read.read(&mut buffer).await {
            if n == 0 || server_write.write_all(&buffer[..n]).await.is_err() {
                break;
            }
            seen.extend_from_slice(&buffer[..n]);
            let text = String::from_utf8_lossy(&seen);
            if text.contains("GET /v1beta2/sandboxes/") && text.contains("/logs?") {
                asked.notify_one();
                seen.clear();
            }
        }
    });
    let mut buffer = vec![0u8; 4 * 1024];
    let mut budget: Option<usize> = None;
    loop {
        let read = tokio::select! {
            read = server_read.read(&mut buffer) => read,
            () = asked_for_logs.notified(), if budget.is_none() => {
                budget = Some(cut_after);
                continue;
            }
        };
        let Ok(n) = read else { break };
        if n == 0 {
            break;
        }
        let n = match budget {
            Some(left) if left <= n => {
                let _ = client_write.write_all(&buffer[..left]).await;
                cuts.fetch_add(1, Ordering::SeqCst);
                break;
            }
            Some(left) => {
                budget = Some(left - n);
                n
            }
            None => n,
        };
        if client_write.write_all(&buffer[..n]).await.is_err() {
            break;
        }
    }
    upstream.abort();
}
