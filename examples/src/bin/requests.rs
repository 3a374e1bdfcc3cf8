//! A request server whose trace is mostly tiny parser fns, as a real server's is: 500 requests,
//! each parsed byte by byte (`next_byte`, `is_space`, `is_token`: tens of nanoseconds each),
//! answered by `write_frame`, an async fn that mostly waits for a slow peer. At exit the runtime
//! names the fns that make most of the trace and the `TRACE_FILTER` line that leaves them out;
//! `trace-rewriter report --sort busy` shows `write_frame` waits rather than works.
//!
//! ```text
//! cargo run -p trace-examples --bin requests --features trace 2>&1 | tail -8
//! ```

use std::time::Duration;

use trace_runtime::trace;

/// Requests served.
const REQUESTS: usize = 500;
/// Every this many frames the peer is slow to take one (`write_frame` waits 1 ms).
const SLOW_EVERY: usize = 50;

#[trace]
mod parse {
    /// The byte at `at`, moving past it.
    pub fn next_byte(buf: &[u8], at: &mut usize) -> Option<u8> {
        let b = buf.get(*at).copied();
        *at += 1;
        b
    }

    pub fn is_space(b: u8) -> bool {
        b == b' ' || b == b'\r' || b == b'\n'
    }

    pub fn is_token(b: u8) -> bool {
        b.is_ascii_alphanumeric() || b"/.:-_".contains(&b)
    }

    /// The request's words.
    pub fn request(buf: &[u8]) -> Vec<String> {
        let mut words = Vec::new();
        let mut word = String::new();
        let mut at = 0;
        while let Some(b) = next_byte(buf, &mut at) {
            if is_space(b) {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            } else if is_token(b) {
                word.push(char::from(b));
            }
        }
        words
    }
}

/// Sends a response; every `SLOW_EVERY`th frame waits for a slow peer.
#[trace]
async fn write_frame(out: &mut Vec<u8>, frame: &[u8], n: usize) {
    if n % SLOW_EVERY == 0 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    out.extend_from_slice(frame);
}

#[trace]
async fn handle(request: Vec<u8>, out: &mut Vec<u8>, n: usize) {
    let words = parse::request(&request);
    let path = words.get(1).cloned().unwrap_or_default();
    write_frame(out, format!("200 {path}\n").as_bytes(), n).await;
}

#[trace]
async fn serve(out: &mut Vec<u8>) {
    for n in 0..REQUESTS {
        let request = format!("GET /items/{n:04} HTTP/1.1\r\nhost: example\r\n\r\n");
        handle(request.into_bytes(), out, n).await;
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a tokio runtime");
    let mut out = Vec::new();
    runtime.block_on(serve(&mut out));
    println!("served {REQUESTS} requests, {} bytes", out.len());
}
