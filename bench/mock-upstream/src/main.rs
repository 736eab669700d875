//! OpenAI-compatible mock upstream for the Switchyard benchmark.
//!
//! POST */chat/completions → a ~600-byte `chat.completion`, or (when the JSON body has
//! `"stream": true`) an SSE stream of `x-mock-chunks` (default 64) content chunks, a finish
//! chunk, a usage chunk and `[DONE]`, each its own body frame, as fast as possible.
//! `x-mock-delay-ms` delays the response head (used to hold requests in flight).
//! Listens on 127.0.0.1 only and prints `PORT=<n>` once ready.

use std::cell::RefCell;
use std::collections::HashMap;
use std::convert::Infallible;
use std::io::Write;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Either, Full};
use hyper::body::{Body, Frame, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};

const ID: &str = "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG";
const MODEL: &str = "gpt-4o-mini-2024-07-18";
const CREATED: u64 = 1_741_569_952;
const WORDS: &[&str] = &[
    "Hello",
    "!",
    " How",
    " can",
    " I",
    " assist",
    " you",
    " today",
    "?",
    " I'm",
    " here",
    " to",
    " help",
    " with",
    " any",
    " questions",
    " you",
    " might",
    " have",
    ".",
];

/// Chat-completion body: realistic shape and size (~600 B) of an OpenAI response.
fn completion_json() -> Bytes {
    Bytes::from(format!(
        r#"{{"id":"{ID}","object":"chat.completion","created":{CREATED},"model":"{MODEL}","choices":[{{"index":0,"message":{{"role":"assistant","content":"Hello! How can I assist you today? I'm here to help with any questions you might have.","refusal":null,"annotations":[]}},"logprobs":null,"finish_reason":"stop"}}],"usage":{{"prompt_tokens":19,"completion_tokens":20,"total_tokens":39,"prompt_tokens_details":{{"cached_tokens":0,"audio_tokens":0}},"completion_tokens_details":{{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}},"service_tier":"default","system_fingerprint":"fp_06737a9306"}}"#
    ))
}

/// SSE frames for an `n`-token stream, one `Bytes` per event.
fn stream_frames(n: usize) -> Vec<Bytes> {
    let head = format!(
        r#"{{"id":"{ID}","object":"chat.completion.chunk","created":{CREATED},"model":"{MODEL}","service_tier":"default","system_fingerprint":"fp_06737a9306","choices":"#
    );
    let mut v = Vec::with_capacity(n + 3);
    for i in 0..n {
        // First chunk carries the role, like OpenAI (content kept non-empty so every chunk counts).
        let role = if i == 0 { r#""role":"assistant","# } else { "" };
        let tok = WORDS[i % WORDS.len()];
        v.push(Bytes::from(format!(
            "data: {head}[{{\"index\":0,\"delta\":{{{role}\"content\":\"{tok}\"}},\"logprobs\":null,\"finish_reason\":null}}],\"usage\":null}}\n\n"
        )));
    }
    v.push(Bytes::from(format!(
        "data: {head}[{{\"index\":0,\"delta\":{{}},\"logprobs\":null,\"finish_reason\":\"stop\"}}],\"usage\":null}}\n\n"
    )));
    v.push(Bytes::from(format!(
        "data: {head}[],\"usage\":{{\"prompt_tokens\":19,\"completion_tokens\":{n},\"total_tokens\":{},\"prompt_tokens_details\":{{\"cached_tokens\":0,\"audio_tokens\":0}},\"completion_tokens_details\":{{\"reasoning_tokens\":0,\"audio_tokens\":0,\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}}}}}}\n\n",
        n + 19
    )));
    v.push(Bytes::from_static(b"data: [DONE]\n\n"));
    v
}

thread_local! {
    // Frames are immutable per chunk count: build once, hand out cheap `Bytes` clones.
    static FRAMES: RefCell<HashMap<usize, Rc<Vec<Bytes>>>> = RefCell::new(HashMap::new());
    static COMPLETION: Bytes = completion_json();
}

/// Body that yields each SSE event as a separate, immediately-ready frame.
struct Sse {
    frames: Rc<Vec<Bytes>>,
    next: usize,
}

impl Body for Sse {
    type Data = Bytes;
    type Error = Infallible;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let i = self.next;
        self.next += 1;
        Poll::Ready(self.frames.get(i).map(|b| Ok(Frame::data(b.clone()))))
    }
    fn is_end_stream(&self) -> bool {
        self.next >= self.frames.len()
    }
}

type Out = Either<Full<Bytes>, Sse>;

fn header_num(req: &Request<Incoming>, name: &str) -> Option<u64> {
    req.headers().get(name)?.to_str().ok()?.trim().parse().ok()
}

/// True if the JSON body has `"stream": true` (byte scan; avoids a JSON dependency).
fn wants_stream(body: &[u8]) -> bool {
    let key = b"\"stream\"";
    body.windows(key.len())
        .enumerate()
        .filter(|(_, w)| *w == key)
        .any(|(i, _)| {
            let rest = body[i + key.len()..]
                .iter()
                .copied()
                .filter(|c| !c.is_ascii_whitespace());
            rest.take(5).eq(b":true".iter().copied())
        })
}

async fn handle(req: Request<Incoming>) -> Result<Response<Out>, Infallible> {
    let delay = header_num(&req, "x-mock-delay-ms").unwrap_or(0);
    let chunks = header_num(&req, "x-mock-chunks").unwrap_or(64) as usize;
    let ok_path =
        req.method() == hyper::Method::POST && req.uri().path().ends_with("/chat/completions");
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => Bytes::new(),
    };
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let res = Response::builder()
        .header("x-request-id", "req_mock")
        .header("openai-processing-ms", "1");
    let res = if !ok_path {
        res.status(StatusCode::NOT_FOUND).header("content-type", "application/json").body(Either::Left(Full::new(
            Bytes::from_static(br#"{"error":{"message":"mock: only POST */chat/completions","type":"invalid_request_error"}}"#),
        )))
    } else if wants_stream(&body) {
        let frames = FRAMES.with(|m| {
            m.borrow_mut()
                .entry(chunks)
                .or_insert_with(|| Rc::new(stream_frames(chunks)))
                .clone()
        });
        res.header("content-type", "text/event-stream; charset=utf-8")
            .header("cache-control", "no-cache")
            .body(Either::Right(Sse { frames, next: 0 }))
    } else {
        res.header("content-type", "application/json")
            .body(Either::Left(Full::new(COMPLETION.with(|c| c.clone()))))
    };
    Ok(res.expect("static response parts are valid"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut port = 0u16;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--port" {
            port = args
                .next()
                .and_then(|p| p.parse().ok())
                .expect("--port <n>");
        }
    }
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind 127.0.0.1");
    let port = listener.local_addr().unwrap().port();
    let mut out = std::io::stdout();
    writeln!(out, "PORT={port}").unwrap();
    out.flush().unwrap();
    // Connection futures hold `Rc` frames (!Send), so they run on a LocalSet on this one thread.
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async move {
            loop {
                let (sock, _) = match listener.accept().await {
                    Ok(s) => s,
                    Err(_) => {
                        // e.g. EMFILE under the 500-in-flight test: back off instead of dying.
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        continue;
                    }
                };
                let _ = sock.set_nodelay(true);
                tokio::task::spawn_local(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .timer(TokioTimer::new())
                        .keep_alive(true)
                        .serve_connection(TokioIo::new(sock), hyper::service::service_fn(handle))
                        .await;
                });
            }
        })
        .await;
}
