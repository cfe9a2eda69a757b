//! Phone numbers in one form, E.164 (`+4915112345678`), whatever the channel or the person wrote:
//! `+49 151 1234-5678`, `0049 151…`, `tel:+49…`, `whatsapp:+49…`, or `(0151) 1234 5678` read in
//! the hub's default region. One form is what lets an SMS and a WhatsApp message from the same
//! number find the same contact.

use phonenumber::country;
use phonenumber::Mode;

/// Why a number cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("the phone number is empty")]
    Empty,
    #[error("{0:?} is not a phone number: use digits, spaces, dashes, dots and brackets, with an optional leading +")]
    NotANumber(String),
    #[error("{0:?} is not a valid phone number")]
    Invalid(String),
    #[error("{0:?} is not a region code: use a two-letter ISO 3166 code such as DE or US, or leave it empty")]
    UnknownRegion(String),
}

/// The region numbers without a country code are read in (`DE`: `0151 …` is `+49151…`), or none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PhoneRegion(Option<country::Id>);

impl PhoneRegion {
    /// No default region: a number without a country code is kept as the digits given.
    pub const NONE: PhoneRegion = PhoneRegion(None);

    /// A two-letter region code (any case); empty means none.
    pub fn parse(code: &str) -> Result<PhoneRegion, PhoneError> {
        let code = code.trim();
        if code.is_empty() {
            return Ok(PhoneRegion::NONE);
        }
        code.to_ascii_uppercase()
            .parse::<country::Id>()
            .map(|id| PhoneRegion(Some(id)))
            .map_err(|_| PhoneError::UnknownRegion(code.to_string()))
    }
}

/// Prefixes providers put before a number: Twilio's `whatsapp:`, RFC 3966's `tel:`, `sms:`.
const PREFIXES: [&str; 3] = ["whatsapp:", "tel:", "sms:"];

/// Characters people and providers write between digits.
fn is_separator(c: char) -> bool {
    matches!(c, ' ' | '-' | '.' | '(' | ')' | '/' | '\u{a0}' | '\t')
}

fn strip_prefix(raw: &str) -> &str {
    let trimmed = raw.trim();
    for prefix in PREFIXES {
        if let Some(head) = trimmed.get(..prefix.len()) {
            if head.eq_ignore_ascii_case(prefix) {
                return trimmed[prefix.len()..].trim();
            }
        }
    }
    trimmed
}

/// The number in E.164. A number with a country code (`+…`, or `00…`) is read as international;
/// one without is read in `region`. Without a region such a number is kept as its digits: a
/// national number (`0151…`) cannot be told from an international one missing its plus, and a
/// wrong guess would join two people into one contact, so it stays as people have always typed
/// it and matches only itself.
pub fn normalise(raw: &str, region: PhoneRegion) -> Result<String, PhoneError> {
    let number = strip_prefix(raw);
    if number.is_empty() {
        return Err(PhoneError::Empty);
    }
    let (plus, rest) = match number.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, number),
    };
    if !rest.chars().all(|c| c.is_ascii_digit() || is_separator(c)) {
        return Err(PhoneError::NotANumber(raw.trim().to_string()));
    }
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 3 || digits.len() > 17 {
        return Err(PhoneError::Invalid(raw.trim().to_string()));
    }
    let international = match (plus, digits.strip_prefix("00")) {
        (true, _) => Some(digits.clone()),
        (false, Some(after_idd)) => Some(after_idd.to_string()),
        (false, None) => None,
    };
    let parsed = match (international, region.0) {
        (Some(digits), _) => phonenumber::parse(None, format!("+{digits}")),
        (None, Some(country)) => phonenumber::parse(Some(country), &digits),
        (None, None) => return Ok(digits),
    };
    match parsed {
        Ok(number) if phonenumber::is_valid(&number) => {
            Ok(number.format().mode(Mode::E164).to_string())
        }
        _ => Err(PhoneError::Invalid(raw.trim().to_string())),
    }
}

/// The number as [`normalise`] reads it, or, when it cannot be read, kept as given (without
/// separators when it is made of digits): what a provider sends is never refused or lost, it is
/// only left unmatched with other spellings. Short codes and alphanumeric sender ids
/// (`MyBrand`) land here.
pub fn normalise_or_keep(raw: &str, region: PhoneRegion) -> String {
    match normalise(raw, region) {
        Ok(number) => number,
        Err(_) => {
            let number = strip_prefix(raw);
            let digit_like = number
                .chars()
                .all(|c| c.is_ascii_digit() || c == '+' || is_separator(c));
            if digit_like {
                number
                    .chars()
                    .filter(|c| c.is_ascii_digit() || *c == '+')
                    .collect()
            } else {
                number.to_string()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn de() -> PhoneRegion {
        PhoneRegion::parse("de").unwrap()
    }

    #[test]
    fn international_numbers_come_out_in_e164_whatever_the_spelling() {
        for spelling in [
            "+4915112345678",
            "+49 151 1234-5678",
            "+49 (151) 12345678",
            "0049 151 12345678",
            "tel:+49-151-12345678",
            "whatsapp:+4915112345678",
            "WhatsApp:+49 151 12345678",
            " +49.151.1234.5678 ",
        ] {
            assert_eq!(
                normalise(spelling, PhoneRegion::NONE).as_deref(),
                Ok("+4915112345678"),
                "{spelling}"
            );
        }
    }

    #[test]
    fn national_numbers_are_read_in_the_default_region() {
        for spelling in ["(0151) 1234 5678", "0151 12345678", "015112345678"] {
            assert_eq!(
                normalise(spelling, de()).as_deref(),
                Ok("+4915112345678"),
                "{spelling}"
            );
        }
        assert_eq!(
            normalise("(020) 7946 0958", PhoneRegion::parse("GB").unwrap()).as_deref(),
            Ok("+442079460958")
        );
        assert_eq!(
            normalise("(201) 555-0123", PhoneRegion::parse("US").unwrap()).as_deref(),
            Ok("+12015550123")
        );
    }

    #[test]
    fn the_region_never_changes_a_number_that_has_its_country_code() {
        assert_eq!(
            normalise("+44 20 7946 0958", de()).as_deref(),
            Ok("+442079460958")
        );
    }

    #[test]
    fn without_a_region_a_national_number_is_kept_as_its_digits() {
        assert_eq!(
            normalise("(0151) 1234-5678", PhoneRegion::NONE).as_deref(),
            Ok("015112345678")
        );
    }

    #[test]
    fn what_is_not_a_valid_number_is_refused_with_a_reason() {
        assert_eq!(normalise("  ", de()), Err(PhoneError::Empty));
        assert_eq!(normalise("tel:", de()), Err(PhoneError::Empty));
        assert!(matches!(
            normalise("call me maybe", de()),
            Err(PhoneError::NotANumber(_))
        ));
        assert!(matches!(
            normalise("+49 12", de()),
            Err(PhoneError::Invalid(_))
        ));
        assert!(matches!(
            normalise("+999 1234 5678", PhoneRegion::NONE),
            Err(PhoneError::Invalid(_))
        ));
        assert!(matches!(
            normalise("0151 123", de()),
            Err(PhoneError::Invalid(_))
        ));
        assert_eq!(
            PhoneRegion::parse("Germany"),
            Err(PhoneError::UnknownRegion("Germany".into()))
        );
    }

    #[test]
    fn what_a_provider_sent_is_kept_when_it_cannot_be_read() {
        assert_eq!(normalise_or_keep("MyBrand", de()), "MyBrand");
        assert_eq!(normalise_or_keep("whatsapp:12345", de()), "12345");
        assert_eq!(
            normalise_or_keep("whatsapp:+49 151 12345678", de()),
            "+4915112345678"
        );
    }

    #[test]
    fn normalising_twice_changes_nothing() {
        for (spelling, region) in [
            ("+49 151 1234-5678", PhoneRegion::NONE),
            ("(0151) 1234 5678", de()),
            ("(0151) 1234 5678", PhoneRegion::NONE),
            ("MyBrand", de()),
        ] {
            let once = normalise_or_keep(spelling, region);
            assert_eq!(normalise_or_keep(&once, region), once, "{spelling}");
        }
    }
}
