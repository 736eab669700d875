//! A tiny scripted HTTP/1.1 server for the integration tests, plus helpers shared by them.
//!
//! Every request (headers plus its `Content-Length` body; connections are kept alive, so one
//! connection may carry several) is recorded, then answered by the next [`Reply`] of a FIFO
//! script. An exhausted script closes the connection.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use switchyard_core::providers::openai::OpenAi;
use switchyard_core::retry::RetryPolicy;
use switchyard_core::{ChatClient, ChatStream, ClientConfig, Error, Provider};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as the server read it. Header names are lower-cased, values trimmed.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// Every value of header `name` (case-insensitive), in order.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The only value of header `name`; panics if it appears more than once.
    pub fn header(&self, name: &str) -> Option<&str> {
        let all = self.header_all(name);
        assert!(all.len() <= 1, "header {name} sent {} times", all.len());
        all.first().copied()
    }
}

/// What the connection does once a reply's pieces are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// Read the next request on the same connection.
    KeepAlive,
    /// Close the socket.
    Close,
    /// Keep the socket open and never write again.
    Hang,
}

#[derive(Debug, Clone)]
pub enum Reply {
    /// Write each piece after sleeping for its delay, then do `after`.
    Send {
        pieces: Vec<(Duration, Vec<u8>)>,
        after: After,
    },
    /// Close the socket without answering.
    Close,
    /// Never answer (the socket stays open).
    Hang,
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Whatever",
    }
}

/// Status line and headers, up to and including the blank line.
pub fn head(status: u16, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.into_bytes()
}

/// One frame of a chunked body.
pub fn frame(data: impl AsRef<[u8]>) -> Vec<u8> {
    let data = data.as_ref();
    let mut out = format!("{:x}\r\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
    out
}

/// The chunked body terminator.
pub const LAST_FRAME: &[u8] = b"0\r\n\r\n";

impl Reply {
    /// Everything in one write.
    pub fn raw(bytes: impl Into<Vec<u8>>, after: After) -> Self {
        Self::Send {
            pieces: vec![(Duration::ZERO, bytes.into())],
            after,
        }
    }

    /// A complete keep-alive response with a `Content-Length` body.
    pub fn with_body(
        status: u16,
        content_type: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Self {
        let len = body.len().to_string();
        let mut all = vec![
            ("Content-Type", content_type),
            ("Content-Length", len.as_str()),
        ];
        all.extend_from_slice(headers);
        let mut bytes = head(status, &all);
        bytes.extend_from_slice(body.as_bytes());
        Self::raw(bytes, After::KeepAlive)
    }

    pub fn json(status: u16, headers: &[(&str, &str)], body: &str) -> Self {
        Self::with_body(status, "application/json", headers, body)
    }

    /// A failure the client should retry after 5 ms (not its default backoff).
    pub fn retry_soon(status: u16) -> Self {
        Self::json(
            status,
            &[("retry-after-ms", "5")],
            r#"{"error":{"message":"try again"}}"#,
        )
    }

    /// An SSE response whose body ends when the socket closes, all in one write.
    pub fn sse(body: &str) -> Self {
        let mut bytes = sse_head();
        bytes.extend_from_slice(body.as_bytes());
        Self::raw(bytes, After::Close)
    }

    /// An SSE response whose body ends when the socket closes, written `size` bytes at a
    /// time with `delay` before each piece.
    pub fn sse_pieces(body: &str, size: usize, delay: Duration) -> Self {
        let mut pieces = vec![(Duration::ZERO, sse_head())];
        pieces.extend(body.as_bytes().chunks(size).map(|c| (delay, c.to_vec())));
        Self::Send {
            pieces,
            after: After::Close,
        }
    }

    /// A chunked SSE response, one frame per item of `frames`, all in one write, properly
    /// terminated and kept alive.
    pub fn sse_chunked(frames: &[String]) -> Self {
        let mut bytes = sse_chunked_head();
        for f in frames {
            bytes.extend_from_slice(&frame(f));
        }
        bytes.extend_from_slice(LAST_FRAME);
        Self::raw(bytes, After::KeepAlive)
    }
}

pub fn sse_head() -> Vec<u8> {
    head(
        200,
        &[
            ("Content-Type", "text/event-stream"),
            ("Cache-Control", "no-cache"),
            ("Connection", "close"),
        ],
    )
}

pub fn sse_chunked_head() -> Vec<u8> {
    head(
        200,
        &[
            ("Content-Type", "text/event-stream"),
            ("Transfer-Encoding", "chunked"),
        ],
    )
}

struct State {
    requests: Mutex<Vec<Request>>,
    script: Mutex<VecDeque<Reply>>,
}

pub struct Server {
    pub addr: SocketAddr,
    state: Arc<State>,
}

impl Server {
    /// Listen on 127.0.0.1 with a fresh port; the server lives as long as the runtime.
    pub async fn start(script: impl IntoIterator<Item = Reply>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State {
            requests: Mutex::new(Vec::new()),
            script: Mutex::new(script.into_iter().collect()),
        });
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                socket.set_nodelay(true).unwrap();
                tokio::spawn(serve(socket, shared.clone()));
            }
        });
        Self { addr, state }
    }

    /// `http://127.0.0.1:PORT/v1`
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.state.requests.lock().unwrap().clone()
    }

    pub fn request_count(&self) -> usize {
        self.state.requests.lock().unwrap().len()
    }
}

async fn serve(mut socket: TcpStream, state: Arc<State>) {
    let mut buf = Vec::new();
    while let Some(request) = read_request(&mut socket, &mut buf).await {
        state.requests.lock().unwrap().push(request);
        let reply = state.script.lock().unwrap().pop_front();
        let (pieces, after) = match reply {
            None | Some(Reply::Close) => return,
            Some(Reply::Hang) => (Vec::new(), After::Hang),
            Some(Reply::Send { pieces, after }) => (pieces, after),
        };
        for (delay, bytes) in pieces {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            if socket.write_all(&bytes).await.is_err() {
                return;
            }
        }
        match after {
            After::KeepAlive => {}
            After::Close => return,
            After::Hang => {
                std::future::pending::<()>().await;
            }
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Read one request from `socket`; `buf` carries bytes already read past the previous one.
/// `None` at end of stream or on anything unexpected.
async fn read_request(socket: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Request> {
    async fn fill(socket: &mut TcpStream, buf: &mut Vec<u8>) -> Option<()> {
        let mut tmp = [0u8; 8192];
        let n = socket.read(&mut tmp).await.ok()?;
        buf.extend_from_slice(&tmp[..n]);
        (n > 0).then_some(())
    }
    let head_len = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i + 4;
        }
        fill(socket, buf).await?;
    };
    let head = String::from_utf8(buf[..head_len].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let mut start = lines.next().unwrap().split(' ');
    let method = start.next().unwrap().to_string();
    let path = start.next().unwrap().to_string();
    let headers: Vec<(String, String)> = lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (k, v) = l.split_once(':').unwrap();
            (k.trim().to_ascii_lowercase(), v.trim().to_string())
        })
        .collect();
    assert!(
        !headers.iter().any(|(k, _)| k == "transfer-encoding"),
        "the test server only reads Content-Length bodies"
    );
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .map_or(0, |(_, v)| v.parse().unwrap());
    while buf.len() < head_len + len {
        fill(socket, buf).await?;
    }
    let body = buf[head_len..head_len + len].to_vec();
    buf.drain(..head_len + len);
    Some(Request {
        method,
        path,
        headers,
        body,
    })
}

// ---- client helpers ---------------------------------------------------------------------------

pub const API_KEY: &str = "sk-test-0123456789abcdef";

/// A request body with odd spacing and non-ASCII text, to check it is sent byte for byte.
pub const REQUEST_BODY: &str =
    r#"{"model":"gpt-4o-mini",  "messages":[{"role":"user","content":"héllo ✓"}], "stream":false}"#;

/// An OpenAI client for `base_url` with a key, a short safety timeout and the default retries.
pub fn config(base_url: impl Into<String>) -> ClientConfig {
    let mut config = ClientConfig::new(Provider::OpenAi(OpenAi::default()), base_url);
    config.api_key = Some(API_KEY.to_string());
    config.timeout = Duration::from_secs(5);
    config
}

pub fn config_retries(base_url: impl Into<String>, max_retries: u32) -> ClientConfig {
    let mut config = config(base_url);
    config.retry = RetryPolicy { max_retries };
    config
}

pub fn client(config: ClientConfig) -> ChatClient {
    ChatClient::new(config).expect("valid client config")
}

// ---- stream helpers ---------------------------------------------------------------------------

pub fn content_chunk(text: &str) -> String {
    serde_json::json!({
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}],
    })
    .to_string()
}

pub fn finish_chunk(reason: &str) -> String {
    serde_json::json!({
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {}, "finish_reason": reason}],
    })
    .to_string()
}

pub fn usage_chunk(prompt: u64, completion: u64) -> String {
    serde_json::json!({
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "choices": [],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
    })
    .to_string()
}

/// One SSE event per item, as the upstream writes them.
pub fn events(data: &[String]) -> String {
    data.iter().map(|d| format!("data: {d}\n\n")).collect()
}

pub const DONE: &str = "data: [DONE]\n\n";

/// Everything a stream delivered: its batches (each a JSON array) and how it ended.
#[derive(Debug)]
pub struct Drained {
    pub batches: Vec<Vec<serde_json::Value>>,
    pub end: Result<(), Error>,
}

impl Drained {
    /// All chunks of all batches, in order.
    pub fn chunks(&self) -> Vec<serde_json::Value> {
        self.batches.iter().flatten().cloned().collect()
    }

    pub fn error(&self) -> &Error {
        self.end
            .as_ref()
            .expect_err("the stream should have failed")
    }
}

/// Call `next_batch` until the end or an error; every batch must be a non-empty JSON array.
pub async fn drain(stream: &mut ChatStream) -> Drained {
    let mut batches = Vec::new();
    for _ in 0..100_000 {
        match stream.next_batch().await {
            Ok(Some(text)) => {
                let value: serde_json::Value =
                    serde_json::from_str(&text).expect("a batch is valid JSON");
                let items = value.as_array().expect("a batch is a JSON array").clone();
                assert!(!items.is_empty(), "empty batch delivered: {text}");
                batches.push(items);
            }
            Ok(None) => {
                return Drained {
                    batches,
                    end: Ok(()),
                }
            }
            Err(e) => {
                return Drained {
                    batches,
                    end: Err(e),
                }
            }
        }
    }
    panic!("the stream never ended");
}

/// The chunks as the JSON values a batch should contain.
pub fn values(chunks: &[String]) -> Vec<serde_json::Value> {
    chunks
        .iter()
        .map(|c| serde_json::from_str(c).unwrap())
        .collect()
}
