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

    pub fn validate(&self) -> Result<(), String> {
        let hex = self.color.strip_prefix('#').unwrap_or("");
        if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err("`color` must be #rrggbb".into());
        }
        for origin in &self.allowed_origins {
            let url =
                url::Url::parse(origin).map_err(|_| format!("{origin:?} is not an origin"))?;
            if url.origin().ascii_serialization() != origin.trim_end_matches('/') {
                return Err(format!(
                    "{origin:?} is not an origin like https://shop.example"
                ));
            }
        }
        self.check_lengths().map_err(|e| e.to_string())?;
        for field in &self.prechat.fields {
            if !matches!(
                field.kind.as_str(),
                "text" | "email" | "textarea" | "select"
            ) {
                return Err(format!("pre-chat field type {:?} is not known", field.kind));
            }
            if field.name.trim().is_empty() || field.label.trim().is_empty() {
                return Err("pre-chat fields need a name and a label".into());
            }
        }
        for text in [&self.greeting, &self.away_message].into_iter().flatten() {
            if text.len() > 1000 {
                return Err("greeting and away message are at most 1000 bytes".into());
            }
        }
        if let Some(hours) = &self.business_hours {
            hours.validate()?;
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
        assert!(s.validate().unwrap_err().contains("color"));
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
        assert!(s.validate().unwrap_err().contains("time zone"));
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
