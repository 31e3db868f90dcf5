//! Where customs keeps its files when not told otherwise, following the XDG base directories:
//! data (the vulnerability database, the scan store) under `$XDG_DATA_HOME/customs`, else
//! `~/.local/share/customs`; the cache under `$XDG_CACHE_HOME/customs`, else
//! `~/.cache/customs`.

use std::path::PathBuf;

fn xdg(var: &str, fallback: &str) -> Option<PathBuf> {
    let xdg = std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(fallback));
    xdg.or(home).map(|d| d.join("customs"))
}

/// `$XDG_DATA_HOME/customs`, else `~/.local/share/customs`.
#[must_use]
pub fn data_dir() -> Option<PathBuf> {
    xdg("XDG_DATA_HOME", ".local/share")
}

/// `$XDG_CACHE_HOME/customs`, else `~/.cache/customs`.
#[must_use]
pub fn cache_dir() -> Option<PathBuf> {
    xdg("XDG_CACHE_HOME", ".cache")
}

/// The default vulnerability database: `vuln.db` in the data directory.
#[must_use]
pub fn default_db() -> Option<PathBuf> {
    data_dir().map(|d| d.join("vuln.db"))
}

/// The default scan store: `store.db` in the data directory.
#[must_use]
pub fn default_store() -> Option<PathBuf> {
    data_dir().map(|d| d.join("store.db"))
}
