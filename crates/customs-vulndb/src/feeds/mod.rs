//! Feed parsers: one file per upstream format, each turning one input file into
//! [`Advisory`](crate::Advisory) records of the normalised model.

pub(crate) mod alpine;
pub(crate) mod debian;
pub(crate) mod enrich;
pub(crate) mod osv;
pub(crate) mod redhat;
pub(crate) mod ubuntu;

/// Why a feed file could not be parsed. `file` is always the input's name as given.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {problem}")]
pub struct FeedError {
    /// The input file as named to the build (a path, or an embedded feed's name).
    pub file: String,
    /// What is wrong, with where in the file when the parser knows (`line 12: …`,
    /// `vulnerabilities[3]: …`).
    pub problem: String,
}

impl FeedError {
    pub(crate) fn new(file: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            problem: problem.into(),
        }
    }
}
