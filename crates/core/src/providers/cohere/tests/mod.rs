//! The adapter's tests, by topic: requests, whole answers and errors, streams, and embeddings with
//! the model list.

mod embeddings;
mod request;
mod response;
mod stream;
