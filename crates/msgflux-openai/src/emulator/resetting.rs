//! A server that resets the connection once a whole request arrived: the
//! failure a client sees when a service accepts an edit and then drops it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::AsyncReadExt as _;

/// Starts a server on a free port of 127.0.0.1 that reads one whole request
/// per connection and then closes the connection without answering (a
/// connection reset after the request was sent). Returns its OpenAI base URL
/// (`http://127.0.0.1:PORT/v1`) and the number of whole requests it read so
/// far. It serves until the runtime it was started on stops.
///
/// # Panics
///
/// When no port of 127.0.0.1 can be bound.
pub async fn start_resetting_server() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                if read_whole_request(&mut socket).await {
                    seen.fetch_add(1, Ordering::SeqCst);
                }
                // Reset rather than close politely.
                let _ = socket.set_zero_linger();
                drop(socket);
            });
        }
    });
    (format!("http://{addr}/v1"), count)
}

/// Reads headers and a Content-Length (or chunked) body; true when a whole request arrived.
async fn read_whole_request(socket: &mut tokio::net::TcpStream) -> bool {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    loop {
        let Ok(n) = socket.read(&mut chunk).await else {
            return false;
        };
        if n == 0 {
            return false;
        }
        buf.extend_from_slice(&chunk[..n]);
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
        let body = &buf[end + 4..];
        let length = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse::<usize>().ok());
        let done = match length {
            Some(length) => body.len() >= length,
            None => body.ends_with(b"0\r\n\r\n"),
        };
        if done {
            return true;
        }
    }
}
