//! serde support: every type here travels as its string, and is checked on the way in.
//!
//! Versions are serialized as the string they were parsed from, so that what a database or a
//! report stores is exactly what the package manager wrote; deserializing parses again, so an
//! invalid version in stored data is an error at the edge, not later.

use std::borrow::Cow;
use std::fmt::Display;
use std::str::FromStr;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{
    ApkVersion, CargoVersion, ComposerVersion, DebVersion, GemVersion, GoVersion, MavenVersion,
    NpmRange, NpmVersion, NuGetVersion, PypiVersion, RpmVersion,
};

fn parse<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: Display,
{
    let s = Cow::<'de, str>::deserialize(deserializer)?;
    s.parse().map_err(D::Error::custom)
}

macro_rules! as_string {
    ($($ty:ty => $as_str:expr),* $(,)?) => {$(
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str($as_str(self))
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                parse(deserializer)
            }
        }
    )*};
}

as_string! {
    DebVersion => DebVersion::as_str,
    RpmVersion => RpmVersion::as_str,
    ApkVersion => ApkVersion::as_str,
    PypiVersion => PypiVersion::as_str,
    NpmVersion => NpmVersion::as_str,
    NpmRange => NpmRange::as_str,
    CargoVersion => CargoVersion::as_str,
    GoVersion => GoVersion::as_str,
    MavenVersion => MavenVersion::as_str,
    GemVersion => GemVersion::as_str,
    ComposerVersion => ComposerVersion::as_str,
    NuGetVersion => NuGetVersion::as_str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_through_json() {
        let v: DebVersion = serde_json::from_str(r#""1:2.0-1""#).unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), r#""1:2.0-1""#);
        let v: RpmVersion = serde_json::from_str(r#""1.0^git1-2.el9""#).unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), r#""1.0^git1-2.el9""#);
        let v: ApkVersion = serde_json::from_str(r#""1.2_rc1-r0""#).unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), r#""1.2_rc1-r0""#);
        let v: PypiVersion = serde_json::from_str(r#""1.0-Alpha_2""#).unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), r#""1.0-Alpha_2""#);
        let v: NpmVersion = serde_json::from_str(r#""v1.2.3-rc.1""#).unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), r#""v1.2.3-rc.1""#);
        let v: NpmRange = serde_json::from_str(r#""^1.2 || 3.x""#).unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), r#""^1.2 || 3.x""#);
        let v: CargoVersion = serde_json::from_str(r#""1.0.0+b""#).unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), r#""1.0.0+b""#);
        let v: GoVersion = serde_json::from_str(r#""go1.21rc2""#).unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), r#""go1.21rc2""#);
        let v: MavenVersion = serde_json::from_str(r#""1.0-SNAPSHOT""#).unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), r#""1.0-SNAPSHOT""#);
        let v: GemVersion = serde_json::from_str(r#""1.0.0.rc1""#).unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), r#""1.0.0.rc1""#);
        let v: ComposerVersion = serde_json::from_str(r#""v1.2.3-beta2""#).unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), r#""v1.2.3-beta2""#);
        let v: NuGetVersion = serde_json::from_str(r#""1.0.01-Beta+sha""#).unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), r#""1.0.01-Beta+sha""#);
    }

    #[test]
    fn invalid_input_is_a_deserialization_error() {
        let err = serde_json::from_str::<DebVersion>(r#""1:""#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("nothing follows the epoch colon"), "{err}");
        let err = serde_json::from_str::<ApkVersion>(r#""1.0-r""#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("'-r' is not followed by a number"), "{err}");
        assert!(serde_json::from_str::<PypiVersion>(r#""0.3m1""#).is_err());
        assert!(serde_json::from_str::<GoVersion>(r#""1.2.3""#).is_err());
        assert!(serde_json::from_str::<NpmRange>(r#""~>~1""#).is_err());
        assert!(serde_json::from_str::<RpmVersion>("1").is_err());
        assert!(serde_json::from_str::<MavenVersion>(r#""1.0 beta""#).is_err());
        assert!(serde_json::from_str::<GemVersion>(r#""1beta""#).is_err());
        assert!(serde_json::from_str::<ComposerVersion>(r#""1.0 as 2.0""#).is_err());
        assert!(serde_json::from_str::<NuGetVersion>(r#""v1.0""#).is_err());
    }
}
