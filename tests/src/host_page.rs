//! A web page on an origin of its own (another loopback port): an embedding host
//! console, or an attacker's page.

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Serves `page` to every request on `listener` until the task is aborted.
pub fn serve(listener: tokio::net::TcpListener, page: String) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let page = page.clone();
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}",
                    page.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    })
}
