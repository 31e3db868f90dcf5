//! Version ordering per ecosystem (placeholder; being written).
#![forbid(unsafe_code)]
