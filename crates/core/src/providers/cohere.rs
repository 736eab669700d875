//! Cohere v2 chat.

use bytes::Bytes;

use super::{unsupported, ChatProvider, Completion, StreamDecode, WireRequest};
use crate::error::Error;
use crate::routing::ProviderSettings;

#[derive(Debug, Clone)]
pub struct Cohere;

impl Cohere {
    pub fn from_settings(_settings: &ProviderSettings) -> Result<Self, Error> {
        Ok(Self)
    }
}

impl ChatProvider for Cohere {
    fn id(&self) -> &'static str {
        "cohere"
    }

    fn chat_request(
        &self,
        _base_url: &str,
        _body: Bytes,
        _stream: bool,
    ) -> Result<WireRequest, Error> {
        Err(unsupported(self.id(), "chat in this build"))
    }

    fn decode_completion(&self, _body: &[u8]) -> Result<Completion, Error> {
        Err(unsupported(self.id(), "chat in this build"))
    }

    fn stream_decoder(&self) -> Box<dyn StreamDecode> {
        Box::new(super::openai::OpenAiStream)
    }
}
