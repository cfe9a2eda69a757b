//! Caps on every text a client can store, in one place, and the checks whose errors name the
//! field that broke one. Without them an anonymous visitor could store megabytes in a name that
//! every agent's conversation list then carries.

use serde_json::{Map, Value};

/// A person's, inbox's, team's or user's name.
pub const NAME: usize = 200;
/// The longest address SMTP carries (RFC 5321).
pub const EMAIL: usize = 254;
pub const PHONE: usize = 64;
/// An identifier a client names a contact or a thread by (API identifier, thread key, visitor
/// identity).
pub const IDENTIFIER: usize = 255;
/// A message's id in the sender's system (the ingest door holds it to 512 bytes too).
pub const EXTERNAL_ID: usize = 512;
/// The longest header line email allows (RFC 5322).
pub const SUBJECT: usize = 998;
/// A BCP 47 language tag, with room for extensions.
pub const LOCALE: usize = 35;
/// A conversation label or an agent skill.
pub const LABEL: usize = 64;
/// Entries in a list of labels, skills, origins or options.
pub const LIST_ITEMS: usize = 50;
/// Keys in a map of contact attributes or pre-chat answers.
pub const ATTRIBUTES: usize = 50;
pub const ATTRIBUTE_KEY: usize = 100;
/// A string value of an attribute, in characters; other values, in bytes of JSON.
pub const ATTRIBUTE_VALUE: usize = 2000;
/// Message HTML, in bytes (text has `ingest::MAX_TEXT_BYTES`).
pub const HTML_BYTES: usize = 512 * 1024;
pub const URL: usize = 2048;
/// A signed identity (JWT or HMAC hash): checked, not stored, but verifying costs work.
pub const TOKEN: usize = 8192;
/// A password: hashed, not stored, but hashing costs work and the login limiter keys on the email.
pub const PASSWORD: usize = 1024;
/// Short texts of settings: pre-chat labels and options, greetings.
pub const SETTING_TEXT: usize = 1000;
/// An email signature (an inbox's, or an agent's own), appended to every reply.
pub const SIGNATURE: usize = 10_000;
/// A canned response's short code: it is typed after `/` in the reply box.
pub const CANNED_CODE: usize = 32;
/// A canned response's text.
pub const CANNED_CONTENT: usize = 10_000;
/// Fields of a pre-chat form.
pub const PRECHAT_FIELDS: usize = 20;
/// The id a console makes for one send of a reply (a UUID is 36).
pub const CLIENT_ID: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    #[error("`{field}` is longer than {max} characters")]
    TooLong { field: String, max: usize },
    #[error("`{field}` is larger than {max} bytes")]
    TooLarge { field: String, max: usize },
    #[error("`{field}` has more than {max} entries")]
    TooMany { field: String, max: usize },
}

/// `value` has at most `max` characters.
pub fn text(field: &str, value: &str, max: usize) -> Result<(), LimitError> {
    // Bytes bound characters from above: the count is only needed for long values.
    if value.len() <= max || value.chars().count() <= max {
        Ok(())
    } else {
        Err(LimitError::TooLong {
            field: field.to_string(),
            max,
        })
    }
}

pub fn optional(field: &str, value: Option<&str>, max: usize) -> Result<(), LimitError> {
    value.map_or(Ok(()), |v| text(field, v, max))
}

/// `value` has at most `max` bytes.
pub fn bytes(field: &str, value: &str, max: usize) -> Result<(), LimitError> {
    if value.len() <= max {
        Ok(())
    } else {
        Err(LimitError::TooLarge {
            field: field.to_string(),
            max,
        })
    }
}

/// At most `max_items` entries of at most `max_len` characters each.
pub fn list<S: AsRef<str>>(
    field: &str,
    items: &[S],
    max_items: usize,
    max_len: usize,
) -> Result<(), LimitError> {
    if items.len() > max_items {
        return Err(LimitError::TooMany {
            field: field.to_string(),
            max: max_items,
        });
    }
    items
        .iter()
        .enumerate()
        .try_for_each(|(i, item)| text(&format!("{field}[{i}]"), item.as_ref(), max_len))
}

/// A map of free-form attributes: [`ATTRIBUTES`] keys of [`ATTRIBUTE_KEY`] characters, each
/// value within [`ATTRIBUTE_VALUE`].
pub fn attributes(field: &str, map: &Map<String, Value>) -> Result<(), LimitError> {
    if map.len() > ATTRIBUTES {
        return Err(LimitError::TooMany {
            field: field.to_string(),
            max: ATTRIBUTES,
        });
    }
    for (key, value) in map {
        text(&format!("{field} key"), key, ATTRIBUTE_KEY)?;
        let name = format!("{field}.{key}");
        match value {
            Value::String(s) => text(&name, s, ATTRIBUTE_VALUE)?,
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
            nested => bytes(&name, &nested.to_string(), ATTRIBUTE_VALUE)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_text_over_its_cap_names_the_field() {
        assert_eq!(text("prechat.name", "Ana", NAME), Ok(()));
        assert_eq!(
            text("prechat.name", &"x".repeat(NAME + 1), NAME)
                .unwrap_err()
                .to_string(),
            "`prechat.name` is longer than 200 characters"
        );
    }

    #[test]
    fn characters_are_counted_not_bytes() {
        let greek = "α".repeat(NAME);
        assert!(greek.len() > NAME);
        assert_eq!(text("name", &greek, NAME), Ok(()));
        assert!(text("name", &format!("{greek}α"), NAME).is_err());
    }

    #[test]
    fn lists_cap_their_length_and_each_entry() {
        assert!(list("labels", &["a"; LIST_ITEMS], LIST_ITEMS, LABEL).is_ok());
        assert!(matches!(
            list("labels", &["a"; LIST_ITEMS + 1], LIST_ITEMS, LABEL),
            Err(LimitError::TooMany { .. })
        ));
        let long = "l".repeat(LABEL + 1);
        assert_eq!(
            list("labels", &["ok", long.as_str()], LIST_ITEMS, LABEL)
                .unwrap_err()
                .to_string(),
            "`labels[1]` is longer than 64 characters"
        );
    }

    #[test]
    fn attribute_maps_cap_keys_values_and_their_number() {
        let ok = json!({"plan": "gold", "seats": 5, "tags": ["a", "b"]});
        assert_eq!(attributes("attributes", ok.as_object().unwrap()), Ok(()));
        let long_value = json!({"plan": "g".repeat(ATTRIBUTE_VALUE + 1)});
        assert_eq!(
            attributes("attributes", long_value.as_object().unwrap())
                .unwrap_err()
                .to_string(),
            "`attributes.plan` is longer than 2000 characters"
        );
        let nested = json!({"blob": {"x": "y".repeat(ATTRIBUTE_VALUE)}});
        assert!(attributes("attributes", nested.as_object().unwrap()).is_err());
        let long_key = json!({ "k".repeat(ATTRIBUTE_KEY + 1): 1 });
        assert!(attributes("attributes", long_key.as_object().unwrap()).is_err());
        let many: Map<String, Value> = (0..=ATTRIBUTES)
            .map(|i| (i.to_string(), json!(i)))
            .collect();
        assert!(matches!(
            attributes("attributes", &many),
            Err(LimitError::TooMany { .. })
        ));
    }
}
