//! `ChatClient::stream` and `ChatStream::next_batch` against a scripted HTTP/1.1 server.

mod support;

use std::time::{Duration, Instant};

use bytes::Bytes;
use support::*;
use switchyard_core::{ChatStream, ErrorKind, StreamProgress, Usage};

const STREAM_BODY: &str =
    r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"stream":true}"#;

fn body() -> Bytes {
    Bytes::from_static(STREAM_BODY.as_bytes())
}

/// A typical answer: three content deltas, a finish reason, then usage.
fn answer() -> Vec<String> {
    vec![
        content_chunk("Hel"),
        content_chunk("lo"),
        content_chunk(" wörld ✓"),
        finish_chunk("stop"),
        usage_chunk(7, 4),
    ]
}

async fn open(server: &Server) -> ChatStream {
    client(config(server.base_url()))
        .stream(body())
        .await
        .expect("the stream opens")
}

/// Open a stream with a 200 ms per-attempt and idle timeout and no retries.
async fn open_with_timeout(server: &Server) -> ChatStream {
    let mut config = config_retries(server.base_url(), 0);
    config.timeout = Duration::from_millis(200);
    client(config)
        .stream(body())
        .await
        .expect("the stream opens")
}

#[tokio::test]
async fn byte_by_byte_delivery_keeps_every_chunk_in_order() {
    // Compact chunks: each byte costs a timer tick.
    let chunks: Vec<String> = [
        r#"{"choices":[{"delta":{"content":"Hel"}}]}"#,
        r#"{"choices":[{"delta":{"content":"lo wörld ✓"}}]}"#,
        r#"{"choices":[{"delta":{},"finish_reason":"stop"}]}"#,
    ]
    .map(String::from)
    .to_vec();
    let sse = events(&chunks) + DONE;
    let server = Server::start([Reply::sse_pieces(&sse, 1, Duration::from_millis(1))]).await;
    let mut stream = open(&server).await;
    let drained = drain(&mut stream).await;

    drained.end.as_ref().expect("a clean end");
    assert_eq!(drained.chunks(), values(&chunks));
    assert!(drained.batches.len() > 1, "the bytes did not arrive apart");
    // And the end is sticky.
    assert_eq!(stream.next_batch().await.unwrap(), None);
    let p = stream.progress();
    assert_eq!((p.chunks, p.content_chars), (3, 13));
    assert_eq!(p.finish_reason.as_deref(), Some("stop"));

    let r = &server.requests()[0];
    assert_eq!(r.path, "/v1/chat/completions");
    assert_eq!(r.body, STREAM_BODY.as_bytes());
    assert_eq!(
        r.header("authorization"),
        Some(format!("Bearer {API_KEY}").as_str())
    );
}

#[tokio::test]
async fn chunked_frames_split_across_events_keep_every_chunk_in_order() {
    let chunks = answer();
    let sse = events(&chunks) + DONE;
    let mut pieces = vec![(Duration::ZERO, sse_chunked_head())];
    // 7-byte frames: events, lines and UTF-8 characters all end up split.
    for part in sse.as_bytes().chunks(7) {
        pieces.push((Duration::from_millis(1), frame(part)));
    }
    pieces.push((Duration::ZERO, LAST_FRAME.to_vec()));
    let server = Server::start([Reply::Send {
        pieces,
        after: After::KeepAlive,
    }])
    .await;
    let mut stream = open(&server).await;
    let drained = drain(&mut stream).await;
    drained.end.as_ref().expect("a clean end");
    assert_eq!(drained.chunks(), values(&chunks));
}

#[tokio::test]
async fn chunks_written_at_once_arrive_as_the_first_alone_then_one_batch() {
    let chunks = answer();
    let server = Server::start([Reply::sse(&(events(&chunks) + DONE))]).await;
    let mut stream = open(&server).await;
    // Let everything arrive before asking, as when the caller is busy with a previous batch.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let batch = stream.next_batch().await.unwrap().expect("the first batch");
    assert_eq!(batch, format!("[{}]", chunks[0]));
    let batch = stream.next_batch().await.unwrap().expect("a batch");
    assert_eq!(batch, format!("[{}]", chunks[1..].join(",")));
    assert_eq!(stream.next_batch().await.unwrap(), None);
}

#[tokio::test]
async fn the_first_chunk_is_ready_when_stream_resolves() {
    let chunks = answer();
    let server = Server::start([Reply::sse(&(events(&chunks) + DONE))]).await;
    let mut stream = open(&server).await;
    let batch = stream.try_next_batch().expect("ready at once").unwrap();
    assert_eq!(batch, Some(format!("[{}]", chunks[0])));
}

#[tokio::test]
async fn chunked_frames_written_at_once_arrive_as_the_first_alone_then_one_batch() {
    // Real upstreams (OpenAI included) send each SSE event as its own chunked frame.
    let chunks = answer();
    let mut frames: Vec<String> = chunks.iter().map(|c| format!("data: {c}\n\n")).collect();
    frames.push(DONE.to_string());
    let server = Server::start([Reply::sse_chunked(&frames)]).await;
    let mut stream = open(&server).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let drained = drain(&mut stream).await;
    drained.end.as_ref().expect("a clean end");
    assert_eq!(drained.chunks(), values(&chunks));
    assert_eq!(
        drained.batches.iter().map(Vec::len).collect::<Vec<_>>(),
        [1, chunks.len() - 1],
        "batch sizes of {} ready chunks",
        chunks.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_frames_written_at_once_arrive_as_the_first_alone_then_one_batch_multi_thread() {
    // As the binding runs it. Twenty frames, so that a lucky race cannot pass this.
    let mut chunks: Vec<String> = (0..19).map(|i| content_chunk(&i.to_string())).collect();
    chunks.push(finish_chunk("stop"));
    let mut frames: Vec<String> = chunks.iter().map(|c| format!("data: {c}\n\n")).collect();
    frames.push(DONE.to_string());
    let server = Server::start([Reply::sse_chunked(&frames)]).await;
    let mut stream = open(&server).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let drained = drain(&mut stream).await;
    drained.end.as_ref().expect("a clean end");
    assert_eq!(drained.chunks(), values(&chunks));
    assert_eq!(
        drained.batches.iter().map(Vec::len).collect::<Vec<_>>(),
        [1, chunks.len() - 1],
        "batch sizes of {} ready chunks",
        chunks.len()
    );
}

#[tokio::test]
async fn a_batch_never_exceeds_256_chunks() {
    let chunks: Vec<String> = (0..300).map(|_| r#"{"choices":[]}"#.to_string()).collect();
    let mut all = chunks.clone();
    all.push(finish_chunk("stop"));
    let server = Server::start([Reply::sse(&(events(&all) + DONE))]).await;
    let mut stream = open(&server).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let drained = drain(&mut stream).await;
    drained.end.as_ref().expect("a clean end");
    assert_eq!(drained.chunks(), values(&all));
    let sizes: Vec<usize> = drained.batches.iter().map(Vec::len).collect();
    assert!(sizes.iter().all(|&n| n <= 256), "batch sizes {sizes:?}");
}

#[tokio::test]
async fn progress_counts_chunks_chars_finish_reason_and_usage() {
    let mut chunks = answer();
    chunks.insert(
        3,
        serde_json::json!({"choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 0, "id": "call_1", "function": {"name": "f", "arguments": ""}},
            {"index": 1, "id": "call_2", "function": {"name": "g", "arguments": ""}},
        ]}}]})
        .to_string(),
    );
    let server = Server::start([Reply::sse(&(events(&chunks) + DONE))]).await;
    let mut stream = open(&server).await;
    assert_eq!(stream.progress(), StreamProgress::default());
    let drained = drain(&mut stream).await;
    drained.end.as_ref().expect("a clean end");
    let p = stream.progress();
    assert_eq!(p.chunks, 6);
    assert_eq!(p.content_chars, 3 + 2 + 8);
    assert_eq!(p.tool_call_deltas, 2);
    assert_eq!(p.finish_reason.as_deref(), Some("stop"));
    assert_eq!(
        p.usage,
        Some(Usage {
            prompt_tokens: 7,
            completion_tokens: 4,
            total_tokens: 11,
            ..Usage::default()
        })
    );
}

#[tokio::test]
async fn data_after_done_is_ignored() {
    let chunks = vec![content_chunk("a"), finish_chunk("stop")];
    let sse = events(&chunks) + DONE + &events(&[content_chunk("late")]) + "data: {garbage\n\n";
    let server = Server::start([Reply::sse(&sse)]).await;
    let mut stream = open(&server).await;
    let drained = drain(&mut stream).await;
    drained.end.as_ref().expect("a clean end");
    assert_eq!(drained.chunks(), values(&chunks));
    assert_eq!(stream.progress().chunks, 2);
}

#[tokio::test]
async fn data_after_done_in_a_later_read_is_ignored() {
    let chunks = vec![content_chunk("a"), finish_chunk("stop")];
    let mut first = sse_head();
    first.extend_from_slice((events(&chunks) + DONE).as_bytes());
    let server = Server::start([Reply::Send {
        pieces: vec![
            (Duration::ZERO, first),
            (Duration::from_millis(30), b"data: {garbage\n\n".to_vec()),
        ],
        after: After::Hang,
    }])
    .await;
    let mut stream = open_with_timeout(&server).await;
    let drained = drain(&mut stream).await;
    drained
        .end
        .as_ref()
        .expect("a clean end, no timeout either");
    assert_eq!(drained.chunks(), values(&chunks));
}

#[tokio::test]
async fn a_finish_reason_without_done_ends_cleanly() {
    let chunks = answer();
    let server = Server::start([Reply::sse(&events(&chunks))]).await;
    let mut stream = open(&server).await;
    let drained = drain(&mut stream).await;
    drained.end.as_ref().expect("a clean end");
    assert_eq!(drained.chunks(), values(&chunks));
}

#[tokio::test]
async fn neither_finish_reason_nor_done_is_a_bad_response_after_the_chunks() {
    let chunks = vec![content_chunk("Hel"), content_chunk("lo")];
    let server = Server::start([Reply::sse(&events(&chunks))]).await;
    let mut stream = open(&server).await;
    let drained = drain(&mut stream).await;
    assert_eq!(drained.chunks(), values(&chunks));
    assert_eq!(drained.error().kind(), ErrorKind::BadResponse);
    assert_eq!(stream.progress().chunks, 2);
    assert_eq!(stream.next_batch().await.unwrap(), None);
}

#[tokio::test]
async fn a_dropped_chunked_connection_is_a_network_error_after_the_chunks() {
    let chunks = vec![content_chunk("Hel"), content_chunk("lo")];
    let mut bytes = sse_chunked_head();
    for c in &chunks {
        bytes.extend_from_slice(&frame(format!("data: {c}\n\n")));
    }
    // No terminating 0-chunk: the body is incomplete.
    let server = Server::start([Reply::raw(bytes, After::Close)]).await;
    let mut stream = open(&server).await;
    let drained = drain(&mut stream).await;
    assert_eq!(drained.chunks(), values(&chunks));
    assert_eq!(
        drained.error().kind(),
        ErrorKind::Network,
        "{:?}",
        drained.end
    );
    assert!(drained.error().retryable());
}

#[tokio::test]
async fn a_dropped_connection_after_a_pause_is_a_network_error_after_the_chunks() {
    let chunks = vec![content_chunk("Hel"), content_chunk("lo")];
    let mut first = sse_chunked_head();
    first.extend_from_slice(&frame(format!("data: {}\n\n", chunks[0])));
    let server = Server::start([Reply::Send {
        pieces: vec![
            (Duration::ZERO, first),
            (
                Duration::from_millis(20),
                frame(format!("data: {}\n\ndata: {{\"cho", chunks[1])),
            ),
        ],
        after: After::Close,
    }])
    .await;
    let mut stream = open(&server).await;
    let drained = drain(&mut stream).await;
    assert_eq!(drained.chunks(), values(&chunks));
    assert_eq!(
        drained.error().kind(),
        ErrorKind::Network,
        "{:?}",
        drained.end
    );
}

#[tokio::test]
async fn a_garbage_data_line_is_a_bad_response_after_the_earlier_chunks() {
    let chunks = vec![content_chunk("a"), content_chunk("b")];
    let sse = events(&chunks) + "data: {not json\n\n" + &events(&[finish_chunk("stop")]) + DONE;
    let server = Server::start([Reply::sse(&sse)]).await;
    let mut stream = open(&server).await;
    let drained = drain(&mut stream).await;
    assert_eq!(drained.chunks(), values(&chunks));
    assert_eq!(drained.error().kind(), ErrorKind::BadResponse);
    assert_eq!(stream.progress().chunks, 2);
}

#[tokio::test]
async fn an_error_object_in_the_stream_is_an_upstream_error() {
    let chunks = vec![content_chunk("a")];
    let sse = events(&chunks)
        + "data: {\"error\":{\"message\":\"The server is overloaded\",\"type\":\"server_error\"}}\n\n"
        + &events(&[content_chunk("never")])
        + DONE;
    let server = Server::start([Reply::sse(&sse)]).await;
    let mut stream = open(&server).await;
    let drained = drain(&mut stream).await;
    assert_eq!(drained.chunks(), values(&chunks));
    let err = drained.error();
    assert_eq!(err.kind(), ErrorKind::UpstreamError);
    assert_eq!(err.to_string(), "The server is overloaded");
    let u = err.upstream().expect("an upstream error");
    assert_eq!(u.status, None);
    assert_eq!(
        u.error_object().unwrap()["type"],
        serde_json::json!("server_error")
    );
}

#[tokio::test]
async fn an_api_key_echoed_in_a_stream_error_is_redacted() {
    let sse = format!(
        "data: {}\n\n",
        serde_json::json!({"error": {"message": format!("key {API_KEY} revoked"), "code": 401}})
    );
    let server = Server::start([Reply::sse(&sse)]).await;
    let mut stream = open(&server).await;
    let drained = drain(&mut stream).await;
    let err = drained.error();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.to_string(), "key [REDACTED] revoked");
    assert!(!format!("{err:?}").contains(API_KEY));
}

#[tokio::test]
async fn an_http_error_fails_stream_itself() {
    let server = Server::start([
        Reply::retry_soon(500),
        Reply::retry_soon(500),
        Reply::retry_soon(500),
        Reply::sse(&(events(&answer()) + DONE)),
    ])
    .await;
    let err = client(config(server.base_url()))
        .stream(body())
        .await
        .err()
        .expect("stream() fails");
    assert_eq!(server.request_count(), 3);
    assert_eq!(err.upstream().unwrap().status, Some(500));
    assert_eq!(err.to_string(), "500 try again");
}

#[tokio::test]
async fn a_429_before_the_stream_is_retried() {
    let chunks = answer();
    let server = Server::start([
        Reply::retry_soon(429),
        Reply::sse(&(events(&chunks) + DONE)),
    ])
    .await;
    let mut stream = open(&server).await;
    let drained = drain(&mut stream).await;
    drained.end.as_ref().expect("a clean end");
    assert_eq!(drained.chunks(), values(&chunks));
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests.iter().all(|r| r.body == STREAM_BODY.as_bytes()));
}

#[tokio::test]
async fn a_json_error_with_200_fails_stream_itself() {
    let server = Server::start([Reply::json(
        200,
        &[],
        r#"{"error":{"message":"Invalid API key","code":401}}"#,
    )])
    .await;
    let err = client(config(server.base_url()))
        .stream(body())
        .await
        .err()
        .expect("stream() fails");
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.to_string(), "Invalid API key");
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn a_whole_json_completion_fails_stream_itself() {
    let server = Server::start([Reply::json(
        200,
        &[],
        r#"{"id":"c","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}"#,
    )])
    .await;
    let err = client(config(server.base_url()))
        .stream(body())
        .await
        .err()
        .expect("stream() fails");
    assert_eq!(err.kind(), ErrorKind::BadResponse);
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn headers_that_never_come_time_out() {
    let server = Server::start([Reply::Hang]).await;
    let mut config = config_retries(server.base_url(), 0);
    config.timeout = Duration::from_millis(200);
    let err = client(config)
        .stream(body())
        .await
        .err()
        .expect("stream() times out");
    assert_eq!(err.kind(), ErrorKind::Timeout);
}

#[tokio::test]
async fn a_stalled_stream_times_out_after_the_first_batch() {
    let chunks = vec![content_chunk("a")];
    let mut bytes = sse_chunked_head();
    bytes.extend_from_slice(&frame(events(&chunks)));
    let server = Server::start([Reply::raw(bytes, After::Hang)]).await;
    let mut stream = open_with_timeout(&server).await;

    let started = Instant::now();
    let batch = stream.next_batch().await.unwrap().expect("the first batch");
    assert_eq!(batch, format!("[{}]", chunks[0]));
    assert!(started.elapsed() < Duration::from_millis(150));

    let err = stream.next_batch().await.unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err:?}");
    assert!(
        elapsed >= Duration::from_millis(190) && elapsed < Duration::from_millis(800),
        "{elapsed:?}"
    );
    assert_eq!(stream.next_batch().await.unwrap(), None);
}

#[tokio::test]
async fn a_slow_but_steady_stream_does_not_time_out() {
    // Each chunk arrives within the idle timeout although the whole stream takes longer.
    let chunks: Vec<String> = (0..6).map(|i| content_chunk(&i.to_string())).collect();
    let mut all = chunks.clone();
    all.push(finish_chunk("stop"));
    let mut pieces = vec![(Duration::ZERO, sse_head())];
    for c in &all {
        pieces.push((
            Duration::from_millis(60),
            format!("data: {c}\n\n").into_bytes(),
        ));
    }
    let server = Server::start([Reply::Send {
        pieces,
        after: After::Close,
    }])
    .await;
    let mut stream = open_with_timeout(&server).await;
    let drained = drain(&mut stream).await;
    drained.end.as_ref().expect("no timeout");
    assert_eq!(drained.chunks(), values(&all));
}

const COMPLETION: &str = r#"{"id":"c","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}"#;

#[tokio::test]
async fn a_finished_chunked_stream_leaves_the_client_usable() {
    let chunks = answer();
    let mut frames: Vec<String> = chunks.iter().map(|c| format!("data: {c}\n\n")).collect();
    frames.push(DONE.to_string());
    let server = Server::start([
        Reply::sse_chunked(&frames),
        Reply::json(200, &[], COMPLETION),
    ])
    .await;
    let client = client(config(server.base_url()));
    let mut stream = client.stream(body()).await.unwrap();
    let drained = drain(&mut stream).await;
    drained.end.as_ref().expect("a clean end");
    assert_eq!(drained.chunks(), values(&chunks));
    drop(stream);
    assert_eq!(client.complete(body()).await.unwrap().json, COMPLETION);
    assert_eq!(server.request_count(), 2);
}

#[tokio::test]
async fn dropping_a_stream_midway_leaves_the_client_usable() {
    let mut bytes = sse_chunked_head();
    bytes.extend_from_slice(&frame(events(&[content_chunk("a")])));
    let server = Server::start([
        Reply::raw(bytes, After::Hang),
        Reply::json(200, &[], COMPLETION),
    ])
    .await;
    let mut config = config(server.base_url());
    config.timeout = Duration::from_millis(500);
    let client = client(config);
    let mut stream = client.stream(body()).await.unwrap();
    assert!(stream.next_batch().await.unwrap().is_some());
    drop(stream);
    assert_eq!(client.complete(body()).await.unwrap().json, COMPLETION);
    assert_eq!(server.request_count(), 2);
}
