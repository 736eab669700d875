//! `ChatClient::complete` against a scripted HTTP/1.1 server: request shape, headers, retries,
//! error mapping, redaction and timeouts.

mod support;

use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::json;
use support::*;
use switchyard_core::{ErrorKind, UpstreamBody};

const COMPLETION: &str = r#"{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"hi ✓"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11,"prompt_tokens_details":{"cached_tokens":4}}}"#;

fn ok() -> Reply {
    Reply::json(200, &[], COMPLETION)
}

fn body() -> Bytes {
    Bytes::from_static(REQUEST_BODY.as_bytes())
}

// ---- success and request shape ----------------------------------------------------------------

#[tokio::test]
async fn success_returns_the_body_unchanged_and_usage() {
    let server = Server::start([ok()]).await;
    let client = client(config(server.base_url()));

    let completion = client.complete(body()).await.unwrap();

    assert_eq!(completion.json, COMPLETION);
    let usage = completion.usage.expect("usage parsed");
    assert_eq!(
        (
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.total_tokens
        ),
        (9, 2, 11)
    );
    assert_eq!(usage.cached_tokens(), 4);

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/v1/chat/completions");
    assert_eq!(
        r.header("authorization"),
        Some(format!("Bearer {API_KEY}").as_str())
    );
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.header("content-length"),
        Some(REQUEST_BODY.len().to_string().as_str())
    );
    assert_eq!(r.body, REQUEST_BODY.as_bytes());
}

#[tokio::test]
async fn trailing_slash_in_base_url_is_handled() {
    let server = Server::start([ok(), ok()]).await;
    for base in [
        format!("{}/", server.base_url()),
        format!("{}//", server.base_url()),
    ] {
        let client = client(config(base));
        client.complete(body()).await.unwrap();
    }
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/v1/chat/completions", "/v1/chat/completions"]);
}

#[tokio::test]
async fn keep_alive_connection_serves_several_calls() {
    let server = Server::start([ok(), ok(), ok()]).await;
    let client = client(config(server.base_url()));
    for _ in 0..3 {
        assert_eq!(client.complete(body()).await.unwrap().json, COMPLETION);
    }
    assert_eq!(server.request_count(), 3);
}

#[tokio::test]
async fn no_api_key_sends_no_authorization() {
    let server = Server::start([ok()]).await;
    let mut config = config(server.base_url());
    config.api_key = None;
    client(config).complete(body()).await.unwrap();
    assert_eq!(server.requests()[0].header("authorization"), None);
}

#[tokio::test]
async fn invalid_configs_are_rejected() {
    let mut bad_scheme = config("ftp://127.0.0.1:1/v1");
    bad_scheme.api_key = None;
    let err = switchyard_core::ChatClient::new(bad_scheme)
        .err()
        .expect("ftp is refused");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);

    let err = switchyard_core::ChatClient::new(config("not a url"))
        .err()
        .expect("garbage URL is refused");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);

    let mut bad_header = config("http://127.0.0.1:1/v1");
    bad_header.default_headers = vec![("bad header".into(), Some("x".into()))];
    let err = switchyard_core::ChatClient::new(bad_header)
        .err()
        .expect("invalid header name is refused");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

// ---- default headers --------------------------------------------------------------------------

#[tokio::test]
async fn default_headers_override_authorization_whatever_the_case() {
    for name in ["Authorization", "AUTHORIZATION", "authorization"] {
        let server = Server::start([ok()]).await;
        let mut config = config(server.base_url());
        config.default_headers = vec![
            (name.to_string(), Some("Bearer other-token-xyz".to_string())),
            ("X-Custom".to_string(), Some("custom value".to_string())),
        ];
        client(config).complete(body()).await.unwrap();
        let r = &server.requests()[0];
        assert_eq!(
            r.header_all("authorization"),
            ["Bearer other-token-xyz"],
            "{name}"
        );
        assert_eq!(r.header("x-custom"), Some("custom value"));
    }
}

#[tokio::test]
async fn default_header_none_removes_a_header() {
    let server = Server::start([ok()]).await;
    let mut config = config(server.base_url());
    config.default_headers = vec![
        ("Authorization".to_string(), None),
        ("content-type".to_string(), None),
    ];
    client(config).complete(body()).await.unwrap();
    let r = &server.requests()[0];
    assert_eq!(r.header("authorization"), None);
    assert_eq!(r.header("content-type"), None);
    assert_eq!(r.body, REQUEST_BODY.as_bytes());
}

#[tokio::test]
async fn default_header_replaces_content_type() {
    let server = Server::start([ok()]).await;
    let mut config = config(server.base_url());
    config.default_headers = vec![(
        "Content-Type".to_string(),
        Some("application/json; charset=utf-8".to_string()),
    )];
    client(config).complete(body()).await.unwrap();
    assert_eq!(
        server.requests()[0].header_all("content-type"),
        ["application/json; charset=utf-8"]
    );
}

// ---- retries ----------------------------------------------------------------------------------

fn assert_same_bodies(server: &Server) {
    for r in server.requests() {
        assert_eq!(r.body, REQUEST_BODY.as_bytes(), "a retry changed the body");
        assert_eq!(r.path, "/v1/chat/completions");
    }
}

#[tokio::test]
async fn retries_429_then_succeeds() {
    let server = Server::start([Reply::retry_soon(429), ok()]).await;
    let started = Instant::now();
    let completion = client(config(server.base_url()))
        .complete(body())
        .await
        .unwrap();
    assert_eq!(completion.json, COMPLETION);
    assert_eq!(server.request_count(), 2);
    assert!(
        started.elapsed() < Duration::from_millis(400),
        "retry-after-ms ignored: took {:?}",
        started.elapsed()
    );
    assert_same_bodies(&server);
}

#[tokio::test]
async fn gives_up_after_max_retries() {
    // A fourth reply that succeeds: retrying once too often would show as Ok.
    let server = Server::start([
        Reply::retry_soon(500),
        Reply::retry_soon(500),
        Reply::retry_soon(500),
        ok(),
    ])
    .await;
    let err = client(config_retries(server.base_url(), 2))
        .complete(body())
        .await
        .unwrap_err();
    assert_eq!(server.request_count(), 3);
    let upstream = err.upstream().expect("an upstream error");
    assert_eq!(upstream.status, Some(500));
    assert_eq!(err.kind(), ErrorKind::UpstreamError);
    assert!(err.retryable());
    assert_same_bodies(&server);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    for (status, kind) in [(400, ErrorKind::InvalidRequest), (401, ErrorKind::Auth)] {
        let server = Server::start([Reply::retry_soon(status), ok()]).await;
        let err = client(config(server.base_url()))
            .complete(body())
            .await
            .unwrap_err();
        assert_eq!(server.request_count(), 1, "{status}");
        assert_eq!(err.kind(), kind);
        assert!(!err.retryable());
    }
}

#[tokio::test]
async fn x_should_retry_false_stops_a_retryable_status() {
    let server = Server::start([
        Reply::json(
            503,
            &[("x-should-retry", "false"), ("retry-after-ms", "5")],
            "{}",
        ),
        ok(),
    ])
    .await;
    let err = client(config(server.base_url()))
        .complete(body())
        .await
        .unwrap_err();
    assert_eq!(server.request_count(), 1);
    assert_eq!(err.upstream().unwrap().status, Some(503));
    assert!(!err.retryable());
}

#[tokio::test]
async fn x_should_retry_true_retries_a_400() {
    let server = Server::start([
        Reply::json(
            400,
            &[("x-should-retry", "true"), ("retry-after-ms", "5")],
            "{}",
        ),
        ok(),
    ])
    .await;
    let completion = client(config(server.base_url()))
        .complete(body())
        .await
        .unwrap();
    assert_eq!(completion.json, COMPLETION);
    assert_eq!(server.request_count(), 2);
    assert_same_bodies(&server);
}

#[tokio::test]
async fn max_retries_zero_makes_one_attempt() {
    let server = Server::start([Reply::retry_soon(429), ok()]).await;
    let err = client(config_retries(server.base_url(), 0))
        .complete(body())
        .await
        .unwrap_err();
    assert_eq!(server.request_count(), 1);
    assert_eq!(err.kind(), ErrorKind::RateLimited);
}

#[tokio::test]
async fn retry_after_in_seconds_is_honoured() {
    let server = Server::start([
        Reply::json(429, &[("retry-after", "0.01")], "{}"),
        Reply::json(503, &[("retry-after", "0")], ""),
        ok(),
    ])
    .await;
    let started = Instant::now();
    client(config(server.base_url()))
        .complete(body())
        .await
        .unwrap();
    assert_eq!(server.request_count(), 3);
    assert!(started.elapsed() < Duration::from_millis(400));
}

#[tokio::test]
async fn a_connection_closed_without_answer_is_retried() {
    // No server delay to honour: this waits the default first backoff (0.375-0.5 s).
    let server = Server::start([Reply::Close, ok()]).await;
    let completion = client(config(server.base_url()))
        .complete(body())
        .await
        .unwrap();
    assert_eq!(completion.json, COMPLETION);
    assert_eq!(server.request_count(), 2);
    assert_same_bodies(&server);
}

// ---- error mapping ----------------------------------------------------------------------------

#[tokio::test]
async fn a_401_json_body_becomes_an_upstream_auth_error() {
    let body_401 = json!({"error": {
        "message": "Invalid authentication",
        "type": "invalid_request_error",
        "code": "invalid_api_key",
    }});
    let server = Server::start([Reply::json(
        401,
        &[("X-Request-Id", "req_123"), ("WWW-Authenticate", "Bearer")],
        &body_401.to_string(),
    )])
    .await;
    let err = client(config(server.base_url()))
        .complete(body())
        .await
        .unwrap_err();

    assert!(
        matches!(err, switchyard_core::Error::Upstream(_)),
        "{err:?}"
    );
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.to_string(), "401 Invalid authentication");
    let u = err.upstream().unwrap();
    assert_eq!(u.status, Some(401));
    assert_eq!(u.kind, ErrorKind::Auth);
    assert_eq!(u.sdk_message(), "401 Invalid authentication");
    assert_eq!(u.body, UpstreamBody::Json(body_401.clone()));
    assert_eq!(u.error_object(), Some(&body_401["error"]));
    let header = |name: &str| {
        u.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(header("x-request-id"), Some("req_123"));
    assert_eq!(header("www-authenticate"), Some("Bearer"));
    assert_eq!(header("content-type"), Some("application/json"));
    assert!(u.headers.iter().all(|(k, _)| *k == k.to_ascii_lowercase()));
}

#[tokio::test]
async fn an_html_502_body_is_kept_as_text() {
    let html = "<html><body><h1>502 Bad Gateway</h1></body></html>";
    let server = Server::start([Reply::with_body(502, "text/html", &[], html)]).await;
    let err = client(config_retries(server.base_url(), 0))
        .complete(body())
        .await
        .unwrap_err();
    let u = err.upstream().unwrap();
    assert_eq!(u.status, Some(502));
    assert_eq!(u.kind, ErrorKind::UpstreamError);
    assert_eq!(u.body, UpstreamBody::Text(html.to_string()));
    assert_eq!(err.to_string(), format!("502 {html}"));
}

#[tokio::test]
async fn an_empty_error_body_is_empty() {
    let server = Server::start([Reply::with_body(500, "text/plain", &[], "")]).await;
    let err = client(config_retries(server.base_url(), 0))
        .complete(body())
        .await
        .unwrap_err();
    assert_eq!(err.upstream().unwrap().body, UpstreamBody::Empty);
    assert_eq!(err.to_string(), "500 status code (no body)");
}

#[tokio::test]
async fn an_api_key_echoed_in_a_json_body_is_redacted() {
    let echo = json!({"error": {
        "message": format!("Incorrect API key provided: {API_KEY}. Check it."),
        "type": "invalid_request_error",
        "param": API_KEY,
    }});
    let server = Server::start([Reply::json(401, &[], &echo.to_string())]).await;
    let err = client(config(server.base_url()))
        .complete(body())
        .await
        .unwrap_err();
    let shown = err.to_string();
    assert!(!shown.contains(API_KEY), "{shown}");
    assert_eq!(
        shown,
        "401 Incorrect API key provided: [REDACTED]. Check it."
    );
    let u = err.upstream().unwrap();
    let body_text = match &u.body {
        UpstreamBody::Json(v) => v.to_string(),
        other => panic!("expected a JSON body, got {other:?}"),
    };
    assert!(!body_text.contains(API_KEY), "{body_text}");
    assert!(!format!("{err:?}").contains(API_KEY));
}

#[tokio::test]
async fn an_api_key_echoed_in_a_text_body_is_redacted() {
    let text = format!("bad key {API_KEY}");
    let server = Server::start([Reply::with_body(400, "text/plain", &[], &text)]).await;
    let err = client(config(server.base_url()))
        .complete(body())
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "400 bad key [REDACTED]");
    assert_eq!(
        err.upstream().unwrap().body,
        UpstreamBody::Text("bad key [REDACTED]".into())
    );
}

#[tokio::test]
async fn a_secret_default_header_echoed_is_redacted() {
    let secret = "proxy-secret-987654";
    let server = Server::start([Reply::with_body(
        403,
        "text/plain",
        &[],
        &format!("rejected {secret}"),
    )])
    .await;
    let mut config = config(server.base_url());
    config.default_headers = vec![("X-Proxy-Token".to_string(), Some(secret.to_string()))];
    let err = client(config).complete(body()).await.unwrap_err();
    assert_eq!(server.requests()[0].header("x-proxy-token"), Some(secret));
    assert_eq!(err.to_string(), "403 rejected [REDACTED]");
}

#[tokio::test]
async fn a_200_that_is_not_a_completion_is_a_bad_response() {
    let server = Server::start([Reply::with_body(200, "text/html", &[], "<html>hi</html>")]).await;
    let err = client(config(server.base_url()))
        .complete(body())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadResponse);
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn a_200_with_an_error_object_is_an_upstream_error() {
    let server = Server::start([Reply::json(
        200,
        &[],
        r#"{"error":{"message":"slow down","code":429}}"#,
    )])
    .await;
    let err = client(config(server.base_url()))
        .complete(body())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.to_string(), "slow down");
    assert_eq!(err.upstream().unwrap().status, None);
}

// ---- timeouts and transport failures ----------------------------------------------------------

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let server = Server::start([Reply::Hang, ok()]).await;
    let mut config = config_retries(server.base_url(), 0);
    config.timeout = Duration::from_millis(200);
    let started = Instant::now();
    let err = client(config).complete(body()).await.unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err:?}");
    assert!(err.retryable());
    assert!(
        elapsed >= Duration::from_millis(190) && elapsed < Duration::from_millis(800),
        "{elapsed:?}"
    );
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn a_body_that_stalls_times_out() {
    // Headers arrive, the promised body never does.
    let server = Server::start([Reply::Send {
        pieces: vec![(
            Duration::ZERO,
            head(
                200,
                &[
                    ("Content-Type", "application/json"),
                    ("Content-Length", "1000"),
                ],
            ),
        )],
        after: After::Hang,
    }])
    .await;
    let mut config = config_retries(server.base_url(), 0);
    config.timeout = Duration::from_millis(200);
    let err = client(config).complete(body()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err:?}");
}

#[tokio::test]
async fn connection_refused_is_a_retryable_network_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let client = client(config_retries(format!("http://127.0.0.1:{port}/v1"), 0));
    let err = client.complete(body()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network, "{err:?}");
    assert!(err.retryable());
    assert!(err.to_string().starts_with("Connection error: "), "{err}");
    assert!(!err.to_string().contains(API_KEY));
}

#[tokio::test]
async fn a_body_cut_short_is_a_network_error() {
    let mut bytes = head(
        200,
        &[
            ("Content-Type", "application/json"),
            ("Content-Length", "1000"),
        ],
    );
    bytes.extend_from_slice(&COMPLETION.as_bytes()[..20]);
    let server = Server::start([Reply::raw(bytes, After::Close)]).await;
    let err = client(config_retries(server.base_url(), 0))
        .complete(body())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network, "{err:?}");
}

#[tokio::test]
async fn an_api_key_echoed_in_a_response_header_is_redacted() {
    let server = Server::start([Reply::json(
        401,
        &[("X-Debug-Key", &format!("got {API_KEY}"))],
        "{}",
    )])
    .await;
    let err = client(config(server.base_url()))
        .complete(body())
        .await
        .unwrap_err();
    let u = err.upstream().unwrap();
    assert!(
        u.headers
            .contains(&("x-debug-key".to_string(), "got [REDACTED]".to_string())),
        "{:?}",
        u.headers
    );
    assert!(!format!("{err:?}").contains(API_KEY));
}

#[tokio::test]
async fn the_user_agent_is_sent_and_can_be_replaced_or_removed() {
    let server = Server::start([ok(), ok(), ok()]).await;
    let with = |value: Option<&str>| {
        let mut config = config(server.base_url());
        config.default_headers = vec![("User-Agent".to_string(), value.map(String::from))];
        config
    };
    client(config(server.base_url()))
        .complete(body())
        .await
        .unwrap();
    client(with(Some("my-app/1.0")))
        .complete(body())
        .await
        .unwrap();
    client(with(None)).complete(body()).await.unwrap();
    let agents: Vec<Vec<String>> = server
        .requests()
        .iter()
        .map(|r| {
            r.header_all("user-agent")
                .into_iter()
                .map(String::from)
                .collect()
        })
        .collect();
    assert_eq!(
        agents[0],
        [concat!("switchyard/", env!("CARGO_PKG_VERSION"))]
    );
    assert_eq!(agents[1], ["my-app/1.0"]);
    assert!(agents[2].is_empty(), "{:?}", agents[2]);
}
