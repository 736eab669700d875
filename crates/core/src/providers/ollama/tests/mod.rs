//! The adapter's tests, by topic: requests, whole answers and errors, streams, embeddings and the
//! model list.

mod embeddings;
mod models;
mod request;
mod response;
mod stream;
