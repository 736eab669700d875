//! AWS Bedrock Converse / ConverseStream.

use bytes::Bytes;

use super::{unsupported, ChatProvider, Completion, StreamDecode, WireRequest};
use crate::error::Error;
use crate::routing::ProviderSettings;

#[derive(Debug, Clone)]
pub struct Bedrock;

impl Bedrock {
    pub fn from_settings(_settings: &ProviderSettings) -> Result<Self, Error> {
        Ok(Self)
    }
}

impl ChatProvider for Bedrock {
    fn id(&self) -> &'static str {
        "bedrock"
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
