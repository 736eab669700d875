//! The adapter's tests, by topic: requests, whole answers (errors and the model list among them)
//! and streams.

mod request;
mod response;
mod stream;
