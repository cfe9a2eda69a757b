//! A web chat inbox's settings: what the widget says and asks, who may embed it, when the team
//! is in, and whether visitors must be verified by the host site.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct WebChatSettings {
    /// The public id the embed snippet names the inbox by. Set by the hub; not a secret.
    pub website_token: String,
    pub greeting: Option<String>,
    /// Shown outside business hours; the widget then asks for an email address.
    pub away_message: Option<String>,
    /// The widget's accent colour, `#rrggbb`.
    pub color: String,
    pub prechat: Prechat,
    /// Origins (`https://shop.example`) allowed to embed the widget; empty allows any.
    pub allowed_origins: Vec<String>,
    /// Refuse visitors the host site has not vouched for (HMAC identifier hash or JWT).
    pub require_identity_verification: bool,
    pub business_hours: Option<BusinessHours>,
    /// Ask for a rating when a conversation is resolved.
    pub csat: bool,
}

impl Default for WebChatSettings {
    fn default() -> Self {
        WebChatSettings {
            website_token: String::new(),
            greeting: Some("Hi! How can we help?".into()),
            away_message: None,
            color: "#2563eb".into(),
            prechat: Prechat::default(),
            allowed_origins: Vec::new(),
            require_identity_verification: false,
            business_hours: None,
            csat: true,
        }
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Prechat {
    pub enabled: bool,
    pub fields: Vec<PrechatField>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrechatField {
    /// `name` and `email` fill the contact; other names become contact attributes.
    pub name: String,
    pub label: String,
    /// text, email, textarea or select.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub options: Vec<String>,
}

/// Opening hours in one time zone: `{"timezone": "Europe/Athens", "days": {"mon": [["09:00",
/// "17:30"]], …}}`. Days without an entry are closed.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BusinessHours {
    pub timezone: String,
    pub days: BTreeMap<String, Vec<[String; 2]>>,
}

/// What is wrong with the settings and where: a path inside them (`prechat.fields[0].name`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{field}`: {message}")]
pub struct SettingsError {
    pub field: String,
    pub message: String,
}

impl SettingsError {
    fn at(field: String, message: String) -> SettingsError {
        SettingsError { field, message }
    }
}

impl From<crate::limits::LimitError> for SettingsError {
    fn from(e: crate::limits::LimitError) -> Self {
        use crate::limits::LimitError::*;
        let field = match &e {
            TooLong { field, .. } | TooLarge { field, .. } | TooMany { field, .. } => field.clone(),
        };
        SettingsError::at(field, e.to_string())
    }
}

/// The widget draws white text on its colour (the header, the visitor's own messages, the send
/// button), at 14 to 16 px: WCAG 2's AA contrast for normal text, 4.5:1, keeps it readable.
pub const MIN_CONTRAST_WITH_WHITE: f64 = 4.5;

fn check_color(color: &str) -> Result<(), SettingsError> {
    let at = |why: String| SettingsError::at("color".into(), why);
    let hex = color.strip_prefix('#').unwrap_or("");
    if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(at("`color` must be #rrggbb".into()));
    }
    let ratio = contrast_with_white(hex);
    if ratio < MIN_CONTRAST_WITH_WHITE {
        return Err(at(format!(
            "white text on {color} has a contrast of {ratio:.1}:1; pick a darker colour (at least {MIN_CONTRAST_WITH_WHITE}:1)"
        )));
    }
    Ok(())
}

/// WCAG 2's contrast ratio of white against the colour `rrggbb` (already checked to be hex).
fn contrast_with_white(hex: &str) -> f64 {
    let channel = |i: usize| {
        let v = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0)) / 255.0;
        if v <= 0.04045 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    let luminance = 0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4);
    1.05 / (luminance + 0.05)
}

/// An origin as browsers send it: scheme, host and port, nothing else (a trailing `/` allowed).
fn is_origin(origin: &str) -> bool {
    url::Url::parse(origin)
        .is_ok_and(|url| url.origin().ascii_serialization() == origin.trim_end_matches('/'))
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn minutes(hhmm: &str) -> Option<u32> {
    let (h, m) = hhmm.split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 24 && m < 60 && h * 60 + m <= 24 * 60).then_some(h * 60 + m)
}

impl BusinessHours {
    pub fn validate(&self) -> Result<(), String> {
        jiff::tz::TimeZone::get(&self.timezone)
            .map_err(|_| format!("unknown time zone {:?}", self.timezone))?;
        for (day, ranges) in &self.days {
            if !DAYS.contains(&day.as_str()) {
                return Err(format!("unknown day {day:?}: use mon, tue, … sun"));
            }
            for [from, to] in ranges {
                match (minutes(from), minutes(to)) {
                    (Some(a), Some(b)) if a < b => {}
                    _ => return Err(format!("{day}: {from}–{to} is not a range of HH:MM times")),
                }
            }
        }
        Ok(())
    }

    /// Whether `at` falls inside the opening hours, in the hours' own time zone.
    pub fn is_open(&self, at: jiff::Timestamp) -> bool {
        let Ok(tz) = jiff::tz::TimeZone::get(&self.timezone) else {
            return true;
        };
        let local = at.to_zoned(tz);
        let day = DAYS[local.weekday().to_monday_zero_offset() as usize];
        let now = local.hour() as u32 * 60 + local.minute() as u32;
        self.days.get(day).is_some_and(|ranges| {
            ranges.iter().any(|[from, to]| {
                matches!((minutes(from), minutes(to)), (Some(a), Some(b)) if a <= now && now < b)
            })
        })
    }
}

impl WebChatSettings {
    pub fn from_inbox(settings: &serde_json::Value) -> WebChatSettings {
        serde_json::from_value(settings.clone()).unwrap_or_default()
    }

    /// The first thing wrong, with where it is (`color`, `prechat.fields[1].options`…) so the
    /// console can show it beside the field.
    pub fn validate(&self) -> Result<(), SettingsError> {
        check_color(&self.color)?;
        for (i, origin) in self.allowed_origins.iter().enumerate() {
            if !is_origin(origin) {
                return Err(SettingsError::at(
                    format!("allowed_origins[{i}]"),
                    format!("{origin:?} is not an origin like https://shop.example"),
                ));
            }
        }
        self.check_lengths().map_err(SettingsError::from)?;
        self.check_prechat()?;
        if let Some(hours) = &self.business_hours {
            hours
                .validate()
                .map_err(|why| SettingsError::at("business_hours".into(), why))?;
        }
        Ok(())
    }

    fn check_prechat(&self) -> Result<(), SettingsError> {
        let mut names = std::collections::HashSet::new();
        for (i, field) in self.prechat.fields.iter().enumerate() {
            let at = |part: &str, why: &str| {
                SettingsError::at(format!("prechat.fields[{i}].{part}"), why.into())
            };
            if !matches!(
                field.kind.as_str(),
                "text" | "email" | "textarea" | "select"
            ) {
                return Err(at("type", "is text, email, textarea or select"));
            }
            if field.name.trim().is_empty() {
                return Err(at("name", "a pre-chat field needs a name"));
            }
            // The widget's form sends the visitor's first message under `message`.
            if field.name == "message" {
                return Err(at("name", "`message` is the visitor's first message"));
            }
            if !names.insert(field.name.as_str()) {
                return Err(at("name", "another pre-chat field has this name"));
            }
            if field.label.trim().is_empty() {
                return Err(at("label", "a pre-chat field needs a label"));
            }
            if field.kind == "select"
                && (field.options.is_empty() || field.options.iter().any(|o| o.trim().is_empty()))
            {
                return Err(at("options", "a list needs options, none of them empty"));
            }
        }
        Ok(())
    }

    /// Every text an admin can store in the settings, capped: the widget sends them all to each
    /// visitor.
    fn check_lengths(&self) -> Result<(), crate::limits::LimitError> {
        use crate::limits;
        limits::optional("greeting", self.greeting.as_deref(), limits::SETTING_TEXT)?;
        limits::optional(
            "away_message",
            self.away_message.as_deref(),
            limits::SETTING_TEXT,
        )?;
        limits::list(
            "allowed_origins",
            &self.allowed_origins,
            limits::LIST_ITEMS,
            limits::URL,
        )?;
        if self.prechat.fields.len() > limits::PRECHAT_FIELDS {
            return Err(limits::LimitError::TooMany {
                field: "prechat.fields".into(),
                max: limits::PRECHAT_FIELDS,
            });
        }
        for (i, field) in self.prechat.fields.iter().enumerate() {
            let at = format!("prechat.fields[{i}]");
            limits::text(&format!("{at}.name"), &field.name, limits::ATTRIBUTE_KEY)?;
            limits::text(&format!("{at}.label"), &field.label, limits::SETTING_TEXT)?;
            limits::list(
                &format!("{at}.options"),
                &field.options,
                limits::LIST_ITEMS,
                limits::SETTING_TEXT,
            )?;
        }
        if let Some(hours) = &self.business_hours {
            limits::text("business_hours.timezone", &hours.timezone, limits::LABEL)?;
            for (day, ranges) in &hours.days {
                if ranges.len() > 10 {
                    return Err(limits::LimitError::TooMany {
                        field: format!("business_hours.days.{day}"),
                        max: 10,
                    });
                }
            }
        }
        Ok(())
    }

    pub fn origin_allowed(&self, origin: Option<&str>) -> bool {
        match origin {
            _ if self.allowed_origins.is_empty() => true,
            // Non-browser clients send no Origin; browsers always do on cross-origin requests.
            None => true,
            Some(origin) => self
                .allowed_origins
                .iter()
                .any(|allowed| allowed.trim_end_matches('/').eq_ignore_ascii_case(origin)),
        }
    }

    pub fn is_open(&self, at: jiff::Timestamp) -> bool {
        self.business_hours.as_ref().is_none_or(|h| h.is_open(at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours() -> BusinessHours {
        serde_json::from_value(serde_json::json!({
            "timezone": "Asia/Tehran",
            "days": {"sat": [["08:00", "12:00"], ["13:00", "17:00"]], "mon": [["09:00", "17:00"]]}
        }))
        .unwrap()
    }

    #[test]
    fn business_hours_follow_the_inboxs_time_zone() {
        let h = hours();
        h.validate().unwrap();
        // Saturday 2026-11-21 09:00 in Tehran (UTC+3:30) is 05:30 UTC.
        assert!(h.is_open("2026-11-21T05:30:00Z".parse().unwrap()));
        // 12:30 Tehran, the lunch gap.
        assert!(!h.is_open("2026-11-21T09:00:00Z".parse().unwrap()));
        // Sunday is closed.
        assert!(!h.is_open("2026-11-22T06:00:00Z".parse().unwrap()));
    }

    #[test]
    fn bad_settings_are_refused_with_a_reason() {
        let mut s = WebChatSettings::default();
        s.validate().unwrap();
        s.color = "blue".into();
        assert_eq!(s.validate().unwrap_err().field, "color");
        let s = WebChatSettings {
            allowed_origins: vec!["https://shop.example/path".into()],
            ..Default::default()
        };
        assert!(s.validate().is_err());
        let s = WebChatSettings {
            business_hours: Some(BusinessHours {
                timezone: "Mars/Olympus".into(),
                days: BTreeMap::new(),
            }),
            ..Default::default()
        };
        assert!(s.validate().unwrap_err().message.contains("time zone"));
    }

    #[test]
    fn colours_white_text_cannot_be_read_on_are_refused() {
        // The default, and the widget's own fallback, pass.
        check_color("#2563eb").unwrap();
        check_color("#2f6fed").unwrap();
        check_color("#000000").unwrap();
        // Yellow and pure red (4.0:1) are too light for white 14 px text.
        assert_eq!(check_color("#ffd400").unwrap_err().field, "color");
        assert!(check_color("#ff0000").is_err());
        assert!((contrast_with_white("ffffff") - 1.0).abs() < 1e-9);
        assert!((contrast_with_white("000000") - 21.0).abs() < 1e-9);
    }

    #[test]
    fn pre_chat_fields_are_refused_with_where_they_are_wrong() {
        let field = |name: &str, kind: &str, options: &[&str]| PrechatField {
            name: name.into(),
            label: "Label".into(),
            kind: kind.into(),
            required: false,
            options: options.iter().map(|o| o.to_string()).collect(),
        };
        let with = |fields| WebChatSettings {
            prechat: Prechat {
                enabled: true,
                fields,
            },
            ..Default::default()
        };
        with(vec![
            field("order", "text", &[]),
            field("topic", "select", &["A"]),
        ])
        .validate()
        .unwrap();
        let err = |fields| with(fields).validate().unwrap_err().field;
        assert_eq!(
            err(vec![field("a", "text", &[]), field("a", "email", &[])]),
            "prechat.fields[1].name"
        );
        assert_eq!(
            err(vec![field("message", "text", &[])]),
            "prechat.fields[0].name"
        );
        assert_eq!(
            err(vec![field("t", "select", &[])]),
            "prechat.fields[0].options"
        );
        assert_eq!(err(vec![field("t", "date", &[])]), "prechat.fields[0].type");
    }

    #[test]
    fn only_listed_origins_may_embed_when_a_list_is_set() {
        let mut s = WebChatSettings::default();
        assert!(s.origin_allowed(Some("https://anything.example")));
        s.allowed_origins = vec!["https://shop.example".into()];
        assert!(s.origin_allowed(Some("https://shop.example")));
        assert!(!s.origin_allowed(Some("https://evil.example")));
    }
}
