//! Switchyard's routing core: the shared HTTP client, wire formats, SSE framing, retries and the
//! one error type. It knows nothing of Node.js; the binding crate at the workspace root is glue.

pub mod canonical;
pub mod client;
pub mod error;
pub mod eventstream;
pub mod framing;
pub mod http;
pub mod providers;
pub mod retry;
pub mod router;
pub mod routing;
pub mod sigv4;
pub mod sse;
pub mod stream;
pub mod usage;

pub use client::{ChatClient, ClientConfig};
pub use error::{Error, ErrorKind, UpstreamBody, UpstreamError};
pub use providers::{Completion, Provider};
pub use stream::{ChatStream, StreamProgress};
pub use usage::Usage;
