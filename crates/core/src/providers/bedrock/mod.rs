//! AWS Bedrock Converse / ConverseStream, Titan and Cohere embeddings (InvokeModel).
//!
//! Requests are signed with SigV4 (service `bedrock`) from the AWS keys, or carry a Bedrock API
//! key as `Authorization: Bearer …` instead. Streams are `application/vnd.amazon.eventstream`
//! ([`crate::eventstream`]): one message per Converse event, named by its `:event-type`.
//!
//! Structured output has no native Converse field: `response_format` becomes a forced tool
//! ([`JSON_TOOL`]) whose input is handed back as the message's JSON text.
//!
//! Converse answers do not name their model: the request's model id travels in
//! [`WireRequest::model`] and is written into every answer and chunk.
//!
//! - `wire`: Converse's serde types, both directions.
//! - `request`: canonical chat request → Converse request, and what Converse cannot take.
//! - `response`: a whole Converse answer → canonical completion; error classification.
//! - `stream`: ConverseStream events → canonical chunks.
//! - `embed`: Titan and Cohere embeddings over InvokeModel.

mod embed;
mod request;
mod response;
mod stream;
mod wire;

#[cfg(test)]
mod tests;

use std::time::SystemTime;

use bytes::Bytes;

use super::{ChatProvider, Completion, Framing, StreamDecode, WireRequest};
use crate::error::{Error, UpstreamError};
use crate::routing::ProviderSettings;
use crate::sigv4::{self, Credentials};

const ID: &str = "bedrock";
/// The SigV4 service name of `bedrock-runtime`.
const SERVICE: &str = "bedrock";
const DEFAULT_REGION: &str = "us-east-1";
/// The tool a structured answer (`response_format`) is forced through. Reserved: a caller's
/// tool may not use the name.
pub const JSON_TOOL: &str = "json_tool_call";
const EVENT_STREAM: &str = "application/vnd.amazon.eventstream";

#[derive(Debug, Clone)]
enum Auth {
    /// A Bedrock API key, sent as `Authorization: Bearer` by [`ChatProvider::authorize`].
    ApiKey,
    SigV4(Credentials),
}

#[derive(Debug, Clone)]
pub struct Bedrock {
    region: String,
    auth: Auth,
}

impl Bedrock {
    pub fn from_settings(settings: &ProviderSettings) -> Result<Self, Error> {
        let set = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
        let region = set(&settings.region).unwrap_or_else(|| DEFAULT_REGION.to_string());
        let auth = if set(&settings.api_key).is_some() {
            Auth::ApiKey
        } else {
            match (
                set(&settings.aws_access_key_id),
                set(&settings.aws_secret_access_key),
            ) {
                (Some(access_key_id), Some(secret_access_key)) => Auth::SigV4(Credentials {
                    access_key_id,
                    secret_access_key,
                    session_token: set(&settings.aws_session_token),
                }),
                (id, secret) => {
                    let missing = match (id, secret) {
                        (Some(_), None) => "an AWS secret access key (awsSecretAccessKey or AWS_SECRET_ACCESS_KEY)",
                        (None, Some(_)) => "an AWS access key id (awsAccessKeyId or AWS_ACCESS_KEY_ID)",
                        _ => "AWS credentials: awsAccessKeyId and awsSecretAccessKey (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or a Bedrock API key (apiKey)",
                    };
                    return Err(Error::InvalidInput(format!("bedrock needs {missing}")));
                }
            }
        };
        Ok(Self { region, auth })
    }
}

impl ChatProvider for Bedrock {
    fn id(&self) -> &'static str {
        ID
    }

    fn chat_request(
        &self,
        base_url: &str,
        body: Bytes,
        stream: bool,
    ) -> Result<WireRequest, Error> {
        request::chat_request(base_url, &body, stream)
    }

    fn decode_completion(&self, body: &[u8], model: &str) -> Result<Completion, Error> {
        response::decode_converse(body, model)
    }

    fn framing(&self) -> Framing {
        Framing::AwsEventStream
    }

    fn stream_decoder(&self, model: &str) -> Box<dyn StreamDecode> {
        Box::new(stream::ConverseStream::new(model))
    }

    fn sign(&self, request: &mut reqwest::Request) -> Result<(), Error> {
        // The client appends a request's own headers after the shared ones: the last `accept`
        // (the event stream's, for ConverseStream) is the one meant.
        let headers = request.headers_mut();
        if let Some(accept) = headers
            .get_all(http::header::ACCEPT)
            .iter()
            .next_back()
            .cloned()
        {
            headers.insert(http::header::ACCEPT, accept);
        }
        match &self.auth {
            Auth::ApiKey => Ok(()),
            Auth::SigV4(credentials) => sigv4::sign_request(
                request,
                credentials,
                &self.region,
                SERVICE,
                SystemTime::now(),
            )
            .map(|_| ()),
        }
    }

    fn classify(&self, error: &mut UpstreamError) {
        response::classify(error)
    }

    fn embed_request(&self, base_url: &str, body: Bytes) -> Result<WireRequest, Error> {
        embed::embed_request(base_url, &body)
    }

    fn decode_embeddings(&self, body: &[u8]) -> Result<String, Error> {
        embed::decode_embeddings(body)
    }
}
