//! The one error type of the core. Every failure a caller can see is a variant here; the binding
//! maps it to a JS error in a single place.

use std::time::Duration;

use serde_json::Value;

/// Stable classification, shared with JS as `err.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    RateLimited,
    Auth,
    InvalidRequest,
    NotFound,
    UpstreamError,
    Timeout,
    Network,
    BadResponse,
    Aborted,
    InvalidInput,
    Internal,
    /// The prompt (plus `max_tokens`) does not fit the model's context window.
    ContextLengthExceeded,
    /// The provider's safety filter refused the prompt or the answer.
    ContentFilter,
    /// The provider is over capacity (Anthropic's 529, Bedrock's ThrottlingException, …).
    Overloaded,
    /// A governance rule refused the call before anything was sent (a denied model, data
    /// residency).
    Policy,
    /// A spend budget cannot hold the call's estimated cost.
    BudgetExceeded,
}

impl ErrorKind {
    /// Every kind, in the order the typings list them: the one definition JS and `.d.ts` follow.
    pub const ALL: [ErrorKind; 16] = [
        Self::RateLimited,
        Self::Auth,
        Self::InvalidRequest,
        Self::NotFound,
        Self::UpstreamError,
        Self::Timeout,
        Self::Network,
        Self::BadResponse,
        Self::Aborted,
        Self::InvalidInput,
        Self::Internal,
        Self::ContextLengthExceeded,
        Self::ContentFilter,
        Self::Overloaded,
        Self::Policy,
        Self::BudgetExceeded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::RateLimited => "rate_limited",
            Self::Auth => "auth",
            Self::InvalidRequest => "invalid_request",
            Self::NotFound => "not_found",
            Self::UpstreamError => "upstream_error",
            Self::Timeout => "timeout",
            Self::Network => "network",
            Self::BadResponse => "bad_response",
            Self::Aborted => "aborted",
            Self::InvalidInput => "invalid_input",
            Self::Internal => "internal",
            Self::ContextLengthExceeded => "context_length_exceeded",
            Self::ContentFilter => "content_filter",
            Self::Overloaded => "overloaded",
            Self::Policy => "policy",
            Self::BudgetExceeded => "budget_exceeded",
        }
    }

    /// The kind an HTTP status implies.
    pub fn from_status(status: u16) -> Self {
        match status {
            401 | 403 => Self::Auth,
            404 => Self::NotFound,
            408 => Self::Timeout,
            429 => Self::RateLimited,
            529 => Self::Overloaded,
            500..=599 => Self::UpstreamError,
            409 => Self::UpstreamError,
            _ => Self::InvalidRequest,
        }
    }
}

/// What an upstream sent back with a failure, kept so callers can read the provider's own words.
#[derive(Debug, Clone, PartialEq)]
pub enum UpstreamBody {
    Empty,
    /// The body parsed as JSON.
    Json(Value),
    /// Anything else (an HTML error page, plain text), kept verbatim.
    Text(String),
}

/// An upstream refused the call: an HTTP error status, or an `error` object inside a stream.
#[derive(Debug, Clone, PartialEq)]
pub struct UpstreamError {
    /// `None` for an error object that arrived inside a 200 stream.
    pub status: Option<u16>,
    /// Response headers, lower-case names.
    pub headers: Vec<(String, String)>,
    pub body: UpstreamBody,
    pub kind: ErrorKind,
    pub retryable: bool,
    pub retry_after: Option<Duration>,
}

impl UpstreamError {
    /// The body's `error` object, the field the `openai` SDK exposes as `err.error`.
    pub fn error_object(&self) -> Option<&Value> {
        match &self.body {
            UpstreamBody::Json(v) => match v.get("error") {
                Some(e) if !e.is_null() => Some(e),
                _ => None,
            },
            _ => None,
        }
    }

    /// The message the `openai` SDK builds for the same failure (`APIError.makeMessage`), so logs
    /// and user-facing text read the same after migrating.
    pub fn sdk_message(&self) -> String {
        let from_error = self.error_object().map(|e| match e.get("message") {
            Some(Value::String(s)) => s.clone(),
            Some(m) if !m.is_null() => m.to_string(),
            _ => e.to_string(),
        });
        let msg = from_error.or_else(|| match &self.body {
            // Providers without an `error` object say it at the top level (`message`, `detail`).
            UpstreamBody::Json(v) => ["message", "detail"]
                .iter()
                .find_map(|k| v.get(*k).and_then(Value::as_str).map(str::to_string))
                .or_else(|| Some(v.to_string())),
            UpstreamBody::Text(t) if !t.is_empty() => Some(t.clone()),
            _ => None,
        });
        match (self.status, msg) {
            (Some(s), Some(m)) => format!("{s} {m}"),
            (Some(s), None) => format!("{s} status code (no body)"),
            (None, Some(m)) => m,
            (None, None) => "(no status code or body)".to_string(),
        }
    }
}

/// Wording that means the same failure at every provider, by kind, in the order checked.
const WORDING: &[(ErrorKind, &[&str])] = &[
    (
        ErrorKind::ContextLengthExceeded,
        &[
            "context_length",
            "context length",
            "context window",
            "maximum context",
            "prompt is too long",
            "too many tokens",
        ],
    ),
    (
        ErrorKind::ContentFilter,
        &[
            "content_filter",
            "content filter",
            "content_policy",
            "content policy",
            "safety",
        ],
    ),
    (ErrorKind::Overloaded, &["overloaded"]),
];

/// Whether `text` (any case) uses the shared wording for `kind`.
pub fn wording_says(text: &str, kind: ErrorKind) -> bool {
    let text = text.to_ascii_lowercase();
    WORDING
        .iter()
        .filter(|(k, _)| *k == kind)
        .any(|(_, needles)| needles.iter().any(|n| text.contains(n)))
}

/// The kind an error's text (any case) implies by its wording: context length, content filter,
/// overload.
pub fn kind_from_wording(text: &str) -> Option<ErrorKind> {
    kind_from_wording_and(text, &[])
}

/// [`kind_from_wording`] with a provider's own needles: those of a shared kind count as that
/// kind's wording (same precedence); those of other kinds are tried after, in order.
pub fn kind_from_wording_and(text: &str, extra: &[(ErrorKind, &[&str])]) -> Option<ErrorKind> {
    let text = text.to_ascii_lowercase();
    let says = |kind: ErrorKind, list: &[(ErrorKind, &[&str])]| {
        list.iter()
            .filter(|(k, _)| *k == kind)
            .any(|(_, needles)| needles.iter().any(|n| text.contains(n)))
    };
    let shared = WORDING.iter().map(|(k, _)| *k);
    let others = extra
        .iter()
        .map(|(k, _)| *k)
        .filter(|k| WORDING.iter().all(|(w, _)| w != k));
    shared
        .chain(others)
        .find(|&k| says(k, WORDING) || says(k, extra))
}

/// Refine an upstream error's kind from what its body says, across providers: context-length
/// and content-filter failures arrive as plain 400s, auth failures sometimes as 400s too.
pub fn classify_common(error: &mut UpstreamError) {
    let Some(e) = error.error_object() else {
        return;
    };
    let field = |name: &str| {
        e.get(name)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_ascii_lowercase()
    };
    let (code, kind, message) = (field("code"), field("type"), field("message"));
    // One line a field, so no needle matches across two.
    let refined = if let Some(k) = kind_from_wording(&format!("{code}\n{kind}\n{message}")) {
        k
    } else if matches!(code.as_str(), "invalid_api_key")
        || kind == "authentication_error"
        || kind == "auth_error"
    {
        ErrorKind::Auth
    } else {
        return;
    };
    error.kind = refined;
    // The same prompt fails the same way again; capacity comes back.
    error.retryable = refined == ErrorKind::Overloaded;
}

/// The router's own refusal of a call by a governance rule, before anything was sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// [`ErrorKind::Policy`] or [`ErrorKind::BudgetExceeded`].
    pub kind: ErrorKind,
    /// The rule, by its config path (`governance.tags.free.deny`); never a key, only its hash.
    pub rule: String,
    pub message: String,
    /// When a windowed budget starts over.
    pub retry_after: Option<Duration>,
}

impl Refusal {
    /// The HTTP status a proxy would answer with: 403 for a policy, 429 for a budget (the
    /// status LiteLLM's budget routing answers when no deployment is left) or a caller's rate
    /// limit.
    pub fn status(&self) -> u16 {
        match self.kind {
            ErrorKind::BudgetExceeded | ErrorKind::RateLimited => 429,
            _ => 403,
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error("{}", .0.sdk_message())]
    Upstream(Box<UpstreamError>),
    #[error("Request timed out after {}ms ({phase}).", .after.as_millis())]
    Timeout {
        phase: &'static str,
        after: Duration,
    },
    #[error("Connection error: {0}")]
    Network(String),
    #[error("Bad response from upstream: {0}")]
    BadResponse(String),
    #[error("Request was aborted.")]
    Aborted,
    #[error("{0}")]
    InvalidInput(String),
    #[error("Internal error: {0}")]
    Internal(String),
    #[error("{}", .0.message)]
    Refused(Box<Refusal>),
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Upstream(u) => u.kind,
            Self::Timeout { .. } => ErrorKind::Timeout,
            Self::Network(_) => ErrorKind::Network,
            Self::BadResponse(_) => ErrorKind::BadResponse,
            Self::Aborted => ErrorKind::Aborted,
            Self::InvalidInput(_) => ErrorKind::InvalidInput,
            Self::Internal(_) => ErrorKind::Internal,
            Self::Refused(r) => r.kind,
        }
    }

    /// Whether trying the same call again may succeed.
    pub fn retryable(&self) -> bool {
        match self {
            Self::Upstream(u) => u.retryable,
            Self::Timeout { .. } | Self::Network(_) => true,
            _ => false,
        }
    }

    pub fn upstream(&self) -> Option<&UpstreamError> {
        match self {
            Self::Upstream(u) => Some(u),
            _ => None,
        }
    }

    /// Describe a transport failure without the URL (it may carry credentials) and with the
    /// whole cause chain, which is where hyper puts the useful part.
    pub(crate) fn from_transport(err: &reqwest::Error) -> Self {
        use std::error::Error as _;
        let mut text = String::new();
        let mut cause: Option<&dyn std::error::Error> = err.source();
        while let Some(c) = cause {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&c.to_string());
            cause = c.source();
        }
        if text.is_empty() {
            text = if err.is_body() || err.is_decode() {
                "the connection closed while reading the response".into()
            } else {
                "request failed".into()
            };
        }
        Self::Network(text)
    }
}

/// Removes secrets from text that may echo them back (upstream error bodies sometimes quote the
/// key they rejected).
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

const REDACTED: &str = "[REDACTED]";

impl Redactor {
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        // Very short values would redact ordinary words; keys are never that short.
        let secrets = secrets.into_iter().filter(|s| s.len() >= 6).collect();
        Self { secrets }
    }

    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), REDACTED);
            }
        }
        out
    }

    fn value(&self, v: &mut Value) {
        match v {
            Value::String(s) if self.secrets.iter().any(|k| s.contains(k.as_str())) => {
                *s = self.text(s);
            }
            Value::Array(items) => items.iter_mut().for_each(|i| self.value(i)),
            Value::Object(map) => map.values_mut().for_each(|i| self.value(i)),
            _ => {}
        }
    }

    pub fn error(&self, mut err: Error) -> Error {
        if self.secrets.is_empty() {
            return err;
        }
        match &mut err {
            Error::Upstream(u) => {
                match &mut u.body {
                    UpstreamBody::Json(v) => self.value(v),
                    UpstreamBody::Text(t) => *t = self.text(t),
                    UpstreamBody::Empty => {}
                }
                for (_, value) in &mut u.headers {
                    *value = self.text(value);
                }
            }
            Error::Network(m) | Error::BadResponse(m) | Error::InvalidInput(m) => *m = self.text(m),
            _ => {}
        }
        err
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn upstream(status: Option<u16>, body: UpstreamBody) -> UpstreamError {
        UpstreamError {
            status,
            headers: vec![],
            body,
            kind: ErrorKind::InvalidRequest,
            retryable: false,
            retry_after: None,
        }
    }

    #[test]
    fn sdk_message_matches_the_openai_sdk() {
        let e = upstream(
            Some(429),
            UpstreamBody::Json(json!({"error": {"message": "Rate limit reached", "code": "x"}})),
        );
        assert_eq!(e.sdk_message(), "429 Rate limit reached");
        let e = upstream(
            Some(502),
            UpstreamBody::Text("<html>bad gateway</html>".into()),
        );
        assert_eq!(e.sdk_message(), "502 <html>bad gateway</html>");
        let e = upstream(Some(500), UpstreamBody::Empty);
        assert_eq!(e.sdk_message(), "500 status code (no body)");
        let e = upstream(
            None,
            UpstreamBody::Json(json!({"error": {"message": "boom"}})),
        );
        assert_eq!(e.sdk_message(), "boom");
        let e = upstream(Some(400), UpstreamBody::Json(json!({"detail": "nope"})));
        assert_eq!(e.sdk_message(), "400 nope");
        let e = upstream(Some(400), UpstreamBody::Json(json!({"reason": 7})));
        assert_eq!(e.sdk_message(), r#"400 {"reason":7}"#);
    }

    #[test]
    fn kinds_follow_status() {
        assert_eq!(ErrorKind::from_status(401), ErrorKind::Auth);
        assert_eq!(ErrorKind::from_status(429), ErrorKind::RateLimited);
        assert_eq!(ErrorKind::from_status(503), ErrorKind::UpstreamError);
        assert_eq!(ErrorKind::from_status(400), ErrorKind::InvalidRequest);
        assert_eq!(ErrorKind::from_status(404), ErrorKind::NotFound);
    }

    #[test]
    fn redactor_scrubs_keys_from_bodies_and_messages() {
        let r = Redactor::new(["sk-secret-123".to_string()]);
        let err = Error::Upstream(Box::new(upstream(
            Some(401),
            UpstreamBody::Json(
                json!({"error": {"message": "Incorrect API key provided: sk-secret-123."}}),
            ),
        )));
        let err = r.error(err);
        assert!(!err.to_string().contains("sk-secret-123"));
        assert!(err.to_string().contains("[REDACTED]"));
        let err = r.error(Error::Network("proxy sk-secret-123 refused".into()));
        assert_eq!(
            err.to_string(),
            "Connection error: proxy [REDACTED] refused"
        );
    }
}
