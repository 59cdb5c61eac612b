//! One line of a `.jsonl` file, read for the fields asked for only.
//!
//! A JSON object may name a field twice (RFC 8259 only says names
//! "SHOULD" be unique), and a general JSON value keeps whichever came last
//! without a word. For a field the tool reads, that would score or train on
//! one of two texts (or labels) chosen unasked, so a field asked for that
//! appears more than once is reported instead. Fields not asked for are
//! skipped without being built, whatever they hold, and a number is kept as
//! written: as an id, `2.50` stays `2.50` and an integer too large for 64
//! bits keeps every digit.

use std::fmt;

use serde::de::{
    self, Deserialize, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use serde_json::value::RawValue;

/// What one line holds.
#[derive(Debug, PartialEq)]
pub(crate) enum Line {
    /// A JSON string: the text itself.
    Text(String),
    /// An object: the values of the fields asked for, in the order asked
    /// (`None` for a field it does not have).
    Object(Vec<Option<Field>>),
    /// Any other JSON value (number, array, `true`, `null`...).
    Other,
}

/// The value of a field asked for.
#[derive(Debug, PartialEq)]
pub(crate) enum Field {
    /// A string, unescaped.
    Str(String),
    /// A number, as written.
    Number(String),
    /// Anything else: an object, an array, `true`, `false` or `null`.
    Other,
}

impl Field {
    /// The string, if the field holds one.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Field::Str(s) => Some(s),
            _ => None,
        }
    }

    /// What the field gives as an id: a string, or a number as written.
    pub(crate) fn as_id(&self) -> Option<&str> {
        match self {
            Field::Str(s) | Field::Number(s) => Some(s),
            Field::Other => None,
        }
    }
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Field, D::Error> {
        // Read raw first: a number parsed as one would be rewritten
        // (`2.50` as `2.5`) or rounded (past 64 bits).
        let raw = <&RawValue>::deserialize(d)?.get();
        Ok(match raw.as_bytes().first() {
            // Already checked as JSON: without a backslash, what lies
            // between the quotes is the string.
            Some(b'"') if !raw.contains('\\') => Field::Str(raw[1..raw.len() - 1].to_string()),
            Some(b'"') => Field::Str(serde_json::from_str(raw).map_err(de::Error::custom)?),
            Some(b'-' | b'0'..=b'9') => Field::Number(raw.to_string()),
            _ => Field::Other,
        })
    }
}

/// Why a line could not be read.
#[derive(Debug)]
pub(crate) enum Bad {
    /// Not UTF-8: why, as [`super::not_utf8`] says.
    Utf8(String),
    /// Not one JSON value.
    Invalid(serde_json::Error),
    /// An object naming a field asked for more than once: its name, and
    /// the first value of each field asked for.
    Repeated {
        name: String,
        values: Vec<Option<Field>>,
    },
}

impl fmt::Display for Bad {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bad::Utf8(why) => f.write_str(why),
            Bad::Invalid(e) => write!(f, "invalid JSON: {e}"),
            Bad::Repeated { name, .. } => write!(f, "field `{name}` appears more than once"),
        }
    }
}

/// Reads `line` as one JSON value, keeping the fields of an object named
/// in `names` (a name given twice there is kept once, at its first place).
pub(crate) fn read(line: &[u8], names: &[&str]) -> Result<Line, Bad> {
    // Checked here rather than by the JSON reader, which would call a
    // Latin-1 `é` an "invalid unicode code point" and say nothing of the
    // encoding.
    let text = std::str::from_utf8(line).map_err(|e| Bad::Utf8(super::not_utf8(line, e)))?;
    let mut de = serde_json::Deserializer::from_str(text);
    let read = LineSeed { names }
        .deserialize(&mut de)
        .map_err(Bad::Invalid)?;
    de.end().map_err(Bad::Invalid)?;
    match read {
        Read::Line(line) => Ok(line),
        Read::Repeated(i, values) => Err(Bad::Repeated {
            name: names[i].to_string(),
            values,
        }),
    }
}

/// Looks a value up by its name in `names` as given to [`read`].
pub(crate) fn get<'v>(
    values: &'v [Option<Field>],
    names: &[&str],
    name: &str,
) -> Option<&'v Field> {
    let i = names.iter().position(|n| *n == name)?;
    values.get(i)?.as_ref()
}

enum Read {
    Line(Line),
    /// The index in `names` of the first field found twice.
    Repeated(usize, Vec<Option<Field>>),
}

struct LineSeed<'n> {
    names: &'n [&'n str],
}

impl<'de> DeserializeSeed<'de> for LineSeed<'_> {
    type Value = Read;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Read, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for LineSeed<'_> {
    type Value = Read;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Read, E> {
        Ok(Read::Line(Line::Text(s.to_string())))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Read, E> {
        Ok(Read::Line(Line::Text(s)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Read, A::Error> {
        let mut values: Vec<Option<Field>> = (0..self.names.len()).map(|_| None).collect();
        let mut repeated = None;
        while let Some(at) = map.next_key_seed(KeySeed { names: self.names })? {
            match at {
                Some(i) if values[i].is_some() => {
                    repeated = repeated.or(Some(i));
                    map.next_value::<IgnoredAny>()?;
                }
                Some(i) => values[i] = Some(map.next_value()?),
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(match repeated {
            Some(i) => Read::Repeated(i, values),
            None => Read::Line(Line::Object(values)),
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Read, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Read::Line(Line::Other))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Read, E> {
        Ok(Read::Line(Line::Other))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Read, E> {
        Ok(Read::Line(Line::Other))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Read, E> {
        Ok(Read::Line(Line::Other))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Read, E> {
        Ok(Read::Line(Line::Other))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Read, E> {
        Ok(Read::Line(Line::Other))
    }
}

/// A key, read as its index in `names` (its first), or `None`, without
/// being copied.
struct KeySeed<'n> {
    names: &'n [&'n str],
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Option<usize>, E> {
        Ok(self.names.iter().position(|n| *n == key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: &[&str] = &["text", "id"];

    fn object(line: &str) -> Vec<Option<Field>> {
        match read(line.as_bytes(), NAMES) {
            Ok(Line::Object(v)) => v,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn fields_asked_for_are_kept_and_the_rest_skipped() {
        let v = object(
            r#"{"id": 7, "meta": {"text": "nested"}, "text": "Area \"Man\"\n", "x": [1, {"id": 2}]}"#,
        );
        let text = Field::Str("Area \"Man\"\n".into());
        assert_eq!(v, [Some(text), Some(Field::Number("7".into()))]);
        assert_eq!(get(&v, NAMES, "id"), Some(&Field::Number("7".into())));
        assert_eq!(get(&v, NAMES, "label"), None);
        assert_eq!(object(r#"{"title": "no text"}"#), [None, None]);
        // Escapes in keys are read as the name they spell.
        assert_eq!(
            object(r#"{"t\u0065xt": "x"}"#)[0],
            Some(Field::Str("x".into()))
        );
    }

    #[test]
    fn numbers_are_kept_as_written() {
        let long = "123456789012345678901234567890";
        for (id, kept) in [
            ("2.50", Field::Number("2.50".into())),
            ("-0", Field::Number("-0".into())),
            (long, Field::Number(long.into())),
            ("1E3", Field::Number("1E3".into())),
            ("null", Field::Other),
            ("[1]", Field::Other),
            (r#"{"a": 1}"#, Field::Other),
            ("false", Field::Other),
        ] {
            let v = object(&format!(r#"{{"text": "x", "id": {id} }}"#));
            assert_eq!(v[1], Some(kept), "{id}");
        }
    }

    #[test]
    fn a_field_asked_for_twice_is_an_error_others_may_repeat() {
        for line in [
            r#"{"text": "one", "text": "two"}"#,
            r#"{"text": "one", "id": 1, "text": null}"#,
            r#"{"te\u0078t": "one", "text": "two"}"#,
        ] {
            match read(line.as_bytes(), NAMES) {
                Err(e @ Bad::Repeated { .. }) => {
                    assert_eq!(e.to_string(), "field `text` appears more than once")
                }
                other => panic!("{line}: {other:?}"),
            }
        }
        let v = object(r#"{"note": 1, "note": 2, "text": "ok"}"#);
        assert_eq!(v[0], Some(Field::Str("ok".into())));
        // The first repeated field is the one named.
        let e = read(br#"{"id": 1, "id": 2, "text": "a", "text": "b"}"#, NAMES);
        assert!(
            matches!(&e, Err(Bad::Repeated { name, values }) if name == "id"
                && values[0] == Some(Field::Str("a".into()))
                && values[1] == Some(Field::Number("1".into()))),
            "{e:?}"
        );
    }

    #[test]
    fn strings_other_values_and_bad_json() {
        assert_eq!(
            read(br#" "Area Man" "#, NAMES).unwrap(),
            Line::Text("Area Man".into())
        );
        for line in ["1", "[1, [2]]", "null", "true", "-0.5e3"] {
            assert_eq!(read(line.as_bytes(), NAMES).unwrap(), Line::Other, "{line}");
        }
        for line in [
            "",
            "{",
            r#"{"text": "a"} x"#,
            "not json",
            r#"{"text": "a",}"#,
            "{} {}",
        ] {
            assert!(
                matches!(read(line.as_bytes(), NAMES), Err(Bad::Invalid(_))),
                "{line}"
            );
        }
    }
}
