//! `/etc/passwd`: which user ids the image knows, for the file-owner check.

use crate::analyzer::{Analyzer, Parsed, Root};
use crate::facts::Fact;

pub(crate) const PASSWD: &str = "etc/passwd";

pub(crate) struct UsersAnalyzer;

impl Analyzer for UsersAnalyzer {
    fn name(&self) -> &'static str {
        "users"
    }
    fn version(&self) -> u32 {
        1
    }
    fn roots(&self) -> &'static [Root] {
        const ROOTS: &[Root] = &[Root::flat("etc")];
        ROOTS
    }
    fn wants(&self, path: &str) -> bool {
        path == PASSWD
    }
    fn max_size(&self) -> u64 {
        4 << 20
    }
    fn parse(&self, _path: &str, bytes: &[u8]) -> Result<Parsed, String> {
        Ok(Fact::Users(uids(&String::from_utf8_lossy(bytes))).into())
    }
}

/// The uids of passwd(5) lines (`name:password:UID:GID:gecos:home:shell`); comments, NIS
/// `+`/`-` entries and malformed lines are skipped.
fn uids(text: &str) -> Vec<u64> {
    let mut out: Vec<u64> = text
        .lines()
        .filter(|l| !l.starts_with(['#', '+', '-']))
        .filter_map(|l| l.split(':').nth(2)?.trim().parse().ok())
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uids_of_a_passwd_file() {
        let text = "root:x:0:0:root:/root:/bin/bash\n# comment\nbroken\n+nis\n\
                    app:x:1000:1000:demo app:/home/app:/bin/sh\nnobody:x:65534:65534::/:/x\n";
        assert_eq!(uids(text), [0, 1000, 65534]);
    }
}
