//! AWS Signature Version 4 request signing (Bedrock).
