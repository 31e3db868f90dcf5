//! SBOMs in: an SBOM stands for the image it describes (`customs scan sbom:FILE`), read into
//! the [`Inventory`] a scan of that image would have given, so that the same matcher gives
//! the same findings.
//!
//! | format | detected by | versions | reader |
//! |---|---|---|---|
//! | CycloneDX JSON | `"bomFormat": "CycloneDX"` | 1.4 to 1.7 | `cyclonedx.rs` |
//! | SPDX JSON | `"spdxVersion"` | SPDX-2.2, SPDX-2.3 | `spdx.rs` |
//! | syft JSON | `artifacts` with `source`, `schema` or `descriptor` | any | `syft.rs` |
//!
//! Each reader collects what its format says (with the property names of `props.rs`, through
//! the lenient types of `de.rs`); `build.rs` turns that into the inventory the same way for
//! all three, with `purl.rs`, `image.rs` and `distro.rs`:
//! - **Packages** come from package URLs. The purl type is the [`Ecosystem`] (`deb`, `apk`,
//!   `rpm`, `pypi`, `npm`, `cargo`, `golang`); the version is the package manager's spelling,
//!   the epoch included (`1:2.33.1-0.1`, whether the writer put it in the version or in an
//!   `epoch` qualifier). An OS package's source package, by which Debian, Ubuntu and Alpine
//!   advisories are looked up, is what the document states (customs', trivy's and syft's
//!   properties and metadata, the purl's `upstream` qualifier), else the package's own name and
//!   version, as the catalog does. A language package the document says lives in an OS
//!   package's files (syft's ownership-by-file-overlap) goes into that package's `owns`, as the
//!   catalog records it. Duplicates are merged, and the list is sorted as the catalog sorts it.
//! - **Left out, never silently**: components whose purl type customs has no ecosystem for
//!   (`gem`, `maven`, …) and components without a purl are counted in one warning per kind, as
//!   not checked. Source rpms (`arch=src`) and OS packages of another architecture than the
//!   image's (multi-platform build SBOMs list every platform's) are counted the same way. A
//!   component with a purl that does not parse, no version, or a string over
//!   [`MAX_FIELD_BYTES`] gets a warning naming it (its bom-ref or SPDXID).
//! - **The image**: the manifest digest the document names (customs' and syft's own fields, a
//!   `pkg:oci` purl, a described component whose version is a digest, trivy's `RepoDigest`),
//!   else the SHA-256 of the document itself, which is then the key the inventory is stored
//!   under. The config digest and the layers' diff_ids, in order, when the document gives
//!   them; a layer a package was found in is kept on the package even when the document does
//!   not say where that layer stands.
//! - **The distribution**: the document's operating-system component (or syft's `distro`),
//!   else the purls' `distro` qualifier (`debian-12`, `rhel-9.7`). Debian's version is its
//!   major, as os-release says it, with the codename of that major.
//!
//! Reading is lenient (unknown fields ignored, numbers where strings belong accepted) and
//! bounded: a document over [`MAX_SBOM_BYTES`] is refused before it is parsed, one with more
//! than [`MAX_COMPONENTS`] components while it is; JSON nested more than 128 levels where
//! customs reads it (serde_json's limit; it skips unread fields without recursion), or
//! components nested more than [`MAX_DEPTH`], is an error, never a stack overflow.

mod build;
mod cyclonedx;
mod de;
mod distro;
mod image;
mod props;
mod purl;
mod spdx;
mod syft;

use std::fmt;

use customs_catalog::Inventory;
use serde::Deserialize;
use serde::de::IgnoredAny;

#[cfg(doc)]
use customs_types::Ecosystem;

/// The largest SBOM read, in bytes. The largest real ones (a distribution's full image with
/// every file listed) are some hundreds of MB.
pub const MAX_SBOM_BYTES: usize = 512 << 20;

/// The most components (packages, nested components, artifacts) one SBOM may hold. Real image
/// SBOMs hold thousands; a document with more is refused rather than read into memory.
pub const MAX_COMPONENTS: usize = 500_000;

/// The longest name, version, purl, path or source field of a component, in bytes; a
/// component with a longer one is left out with a warning (real ones are far shorter, and an
/// over-long one would be copied into every report).
pub const MAX_FIELD_BYTES: usize = 4096;

/// How deep CycloneDX components may nest (`components[].components`).
pub const MAX_DEPTH: usize = 32;

/// The SBOM formats customs reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SbomFormat {
    /// CycloneDX JSON, spec 1.4 to 1.7.
    CycloneDx,
    /// SPDX JSON, SPDX-2.2 and SPDX-2.3.
    Spdx,
    /// syft's own JSON (`syft -o json`).
    SyftJson,
}

impl SbomFormat {
    /// The short name: `cyclonedx`, `spdx`, `syft-json`. A package read from an SBOM is
    /// `found_in` `sbom:` and this.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CycloneDx => "cyclonedx",
            Self::Spdx => "spdx",
            Self::SyftJson => "syft-json",
        }
    }
}

impl fmt::Display for SbomFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::CycloneDx => "CycloneDX",
            Self::Spdx => "SPDX",
            Self::SyftJson => "syft JSON",
        })
    }
}

/// Why an SBOM could not be read. Each names the input (`origin`) and says what was wrong.
/// Problems with single components are not errors: they are warnings in the inventory.
#[derive(Debug, thiserror::Error)]
pub enum SbomError {
    /// Larger than [`MAX_SBOM_BYTES`]; not parsed.
    #[error("{origin}: the SBOM is {size} bytes, more than the {max} customs reads")]
    TooLarge {
        /// The input.
        origin: String,
        /// Its size.
        size: usize,
        /// [`MAX_SBOM_BYTES`].
        max: usize,
    },
    /// Not JSON, or JSON cut short.
    #[error("{origin}: not a JSON document ({source}){hint}")]
    NotJson {
        /// The input.
        origin: String,
        /// A hint at what the input is instead (XML, SPDX tag-value), starting with `; `, or
        /// empty.
        hint: String,
        /// Where the JSON went wrong.
        #[source]
        source: serde_json::Error,
    },
    /// JSON, but none of the formats customs reads.
    #[error(
        "{origin}: not an SBOM customs reads: {why}; expected CycloneDX JSON (\"bomFormat\": \"CycloneDX\"), SPDX 2.2/2.3 JSON (\"spdxVersion\") or syft JSON (\"artifacts\" and \"source\")"
    )]
    Unrecognized {
        /// The input.
        origin: String,
        /// What it is instead.
        why: String,
    },
    /// A version of the format customs does not read.
    #[error("{origin}: {format} version {found} is not supported: customs reads {supported}")]
    UnsupportedVersion {
        /// The input.
        origin: String,
        /// The format detected.
        format: SbomFormat,
        /// The version the document states.
        found: String,
        /// The versions customs reads.
        supported: &'static str,
    },
    /// The format was detected, but the document's structure is not that format's (a list
    /// that is an object).
    #[error("{origin}: not a valid {format} document: {source}")]
    Invalid {
        /// The input.
        origin: String,
        /// The format detected.
        format: SbomFormat,
        /// What serde_json found, with the line and column.
        #[source]
        source: serde_json::Error,
    },
    /// Nested deeper than customs follows.
    #[error("{origin}: {what}: customs refuses documents nested this deeply")]
    TooDeep {
        /// The input.
        origin: String,
        /// What is nested too deeply, and where.
        what: String,
    },
    /// More than [`MAX_COMPONENTS`] components.
    #[error(
        "{origin}: more than {max} components (or entries in one list): customs refuses SBOMs this large"
    )]
    TooManyComponents {
        /// The input.
        origin: String,
        /// [`MAX_COMPONENTS`].
        max: usize,
    },
}

impl SbomError {
    /// The error for a serde_json failure on the whole document, detected as `format` (`None`:
    /// before detection).
    pub(crate) fn from_json(
        e: serde_json::Error,
        origin: &str,
        format: Option<SbomFormat>,
    ) -> Self {
        let origin = origin.to_owned();
        let msg = e.to_string();
        if msg.contains(de::TOO_MANY) {
            return Self::TooManyComponents {
                origin,
                max: MAX_COMPONENTS,
            };
        }
        if msg.starts_with("recursion limit exceeded") {
            return Self::TooDeep {
                origin,
                what: format!(
                    "JSON nested more than 128 levels deep (line {}, column {})",
                    e.line(),
                    e.column()
                ),
            };
        }
        match (e.classify(), format) {
            (serde_json::error::Category::Data, Some(format)) => Self::Invalid {
                origin,
                format,
                source: e,
            },
            (serde_json::error::Category::Data, None) => Self::Unrecognized {
                origin,
                why: format!("the JSON is not an object ({e})"),
            },
            _ => Self::NotJson {
                origin,
                hint: String::new(),
                source: e,
            },
        }
    }
}

/// Read an SBOM (CycloneDX 1.4–1.7 JSON, SPDX 2.2/2.3 JSON, or syft's own JSON; detected from
/// the content) into an inventory. `origin` names the input in messages and in the inventory
/// (a path, or `-` for standard input).
///
/// # Errors
/// The document is too large, not JSON, none of the three formats, a version of one customs
/// does not read, not structured as its format says, too deep, or has too many components (see
/// [`SbomError`]). Problems with single components are warnings in the inventory.
pub fn read(bytes: &[u8], origin: &str) -> Result<Inventory, SbomError> {
    read_with_format(bytes, origin).map(|(inv, _)| inv)
}

/// [`read`], also saying which format the document was.
///
/// # Errors
/// As [`read`].
pub fn read_with_format(bytes: &[u8], origin: &str) -> Result<(Inventory, SbomFormat), SbomError> {
    if bytes.len() > MAX_SBOM_BYTES {
        return Err(SbomError::TooLarge {
            origin: origin.to_owned(),
            size: bytes.len(),
            max: MAX_SBOM_BYTES,
        });
    }
    // Some Windows tools write a byte-order mark, which JSON parsers refuse.
    let json = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let format = detect(json, origin)?;
    let doc = match format {
        SbomFormat::CycloneDx => cyclonedx::read(json, origin)?,
        SbomFormat::Spdx => spdx::read(json, origin)?,
        SbomFormat::SyftJson => syft::read(json, origin)?,
    };
    Ok((build::inventory(doc, bytes, origin), format))
}

/// The top-level fields that tell the formats apart; everything else is skipped unread.
#[derive(Deserialize)]
struct Probe {
    #[serde(rename = "bomFormat", default, deserialize_with = "de::text")]
    bom_format: Option<String>,
    #[serde(rename = "spdxVersion", default, deserialize_with = "de::text")]
    spdx_version: Option<String>,
    #[serde(rename = "@context", default, deserialize_with = "de::text")]
    context: Option<String>,
    #[serde(default)]
    artifacts: Option<IgnoredAny>,
    #[serde(default)]
    source: Option<IgnoredAny>,
    #[serde(default)]
    schema: Option<IgnoredAny>,
    #[serde(default)]
    descriptor: Option<IgnoredAny>,
}

fn detect(json: &[u8], origin: &str) -> Result<SbomFormat, SbomError> {
    let not_json = |e: serde_json::Error| {
        let mut err = SbomError::from_json(e, origin, None);
        if let SbomError::NotJson { hint, .. } = &mut err {
            *hint = not_json_hint(json).to_owned();
        }
        err
    };
    // serde reads a struct from a JSON array too, field by field: refuse that form first.
    let first = json.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        serde_json::from_slice::<IgnoredAny>(json).map_err(not_json)?;
        return Err(SbomError::Unrecognized {
            origin: origin.to_owned(),
            why: "the JSON is not an object".to_owned(),
        });
    }
    let probe: Probe = serde_json::from_slice(json).map_err(not_json)?;
    if let Some(f) = probe.bom_format {
        return if f.trim().eq_ignore_ascii_case("CycloneDX") {
            Ok(SbomFormat::CycloneDx)
        } else {
            Err(SbomError::Unrecognized {
                origin: origin.to_owned(),
                why: format!("its bomFormat is {}, not \"CycloneDX\"", build::shown(&f)),
            })
        };
    }
    if probe.spdx_version.is_some() {
        return Ok(SbomFormat::Spdx);
    }
    if probe
        .context
        .as_deref()
        .is_some_and(|c| c.contains("spdx.org/rdf/3"))
    {
        return Err(SbomError::UnsupportedVersion {
            origin: origin.to_owned(),
            format: SbomFormat::Spdx,
            found: "3 (JSON-LD)".to_owned(),
            supported: spdx::SUPPORTED,
        });
    }
    if probe.artifacts.is_some()
        && (probe.source.is_some() || probe.schema.is_some() || probe.descriptor.is_some())
    {
        return Ok(SbomFormat::SyftJson);
    }
    Err(SbomError::Unrecognized {
        origin: origin.to_owned(),
        why: "it has none of those fields".to_owned(),
    })
}

/// What a document that is not JSON looks like it is, for the error.
fn not_json_hint(bytes: &[u8]) -> &'static str {
    let start: Vec<u8> = bytes
        .iter()
        .copied()
        .skip_while(u8::is_ascii_whitespace)
        .take(64)
        .collect();
    if start.starts_with(b"<") {
        "; it looks like XML: customs reads CycloneDX and SPDX in their JSON form only"
    } else if start.starts_with(b"SPDXVersion:") {
        "; it looks like SPDX tag-value: customs reads SPDX in its JSON form only"
    } else if start.is_empty() {
        "; the input is empty"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests;
