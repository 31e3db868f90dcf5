//! Lenient deserialization: SBOM writers disagree on types (a version written as a number, `null`
//! for an absent list), and one odd field must not cost the whole document.
//!
//! Scalars are read with [`text`]: a string as it is, a number or boolean spelled out, anything
//! else (null, an array, an object, skipped without being kept) as absent. Lists are read with
//! [`list`]: `null` is an empty list, and a list longer than [`MAX_COMPONENTS`] is refused while
//! it is read, before it fills memory. Structure that is not what the format says (a list that
//! is an object) stays an error: what the document holds cannot be known then.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::MAX_COMPONENTS;

/// The text of a serde error raised for a list over [`MAX_COMPONENTS`] entries, which the
/// reader turns into [`SbomError::TooManyComponents`](super::SbomError::TooManyComponents).
pub(crate) const TOO_MANY: &str = "customs: list longer than the limit";

/// A scalar as text; see the module doc.
pub(crate) fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    d.deserialize_any(TextVisitor)
}

/// A scalar read with [`text`], for lists of strings and map values.
#[derive(Debug, Default, Clone)]
pub(crate) struct Text(pub(crate) Option<String>);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        text(d).map(Text)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

/// A list, `null` read as empty; see the module doc.
pub(crate) fn list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    d.deserialize_any(ListVisitor(PhantomData))
}

struct ListVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ListVisitor<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list")
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        // The hint is the writer's claim: never trust it for an allocation.
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(item) = seq.next_element()? {
            if out.len() == MAX_COMPONENTS {
                return Err(de::Error::custom(TOO_MANY));
            }
            out.push(item);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Deserialize)]
    struct T {
        #[serde(default, deserialize_with = "text")]
        s: Option<String>,
        #[serde(default, deserialize_with = "list")]
        l: Vec<Text>,
    }

    #[test]
    fn scalars_and_lists_leniently() {
        let t: T = serde_json::from_str(r#"{"s": 1.5, "l": null}"#).unwrap();
        assert_eq!(t.s.as_deref(), Some("1.5"));
        assert!(t.l.is_empty());
        let t: T = serde_json::from_str(r#"{"s": {"a": [1]}, "l": ["x", 2, {}]}"#).unwrap();
        assert_eq!(t.s, None);
        let l: Vec<Option<String>> = t.l.into_iter().map(|t| t.0).collect();
        assert_eq!(l, [Some("x".to_owned()), Some("2".to_owned()), None]);
        let t: T = serde_json::from_str(r#"{}"#).unwrap();
        assert_eq!((t.s, t.l.len()), (None, 0));
        // A list that is not one is an error, not an empty list: its content is unknown.
        assert!(serde_json::from_str::<T>(r#"{"l": "x"}"#).is_err());
    }
}
