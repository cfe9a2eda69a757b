//! The business account's message templates: the only messages WhatsApp lets a business send
//! once the customer-service window has closed. Listed from
//! `GET /{waba_id}/message_templates` (approved ones only), and a template's body filled with
//! its positional `{{n}}` parameters, as the customer will read it.

use serde::Serialize;

use crate::{Graph, GraphError};

/// Pages of templates read at most (100 a page): a bound on what one listing costs.
const MAX_PAGES: usize = 10;

/// An approved template, as agents pick it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Template {
    pub name: String,
    pub language: String,
    pub category: String,
    /// The body's text with its `{{1}}`, `{{2}}`… placeholders.
    pub body: String,
    /// How many parameters the body takes.
    pub parameters: usize,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("the template {name:?} ({language}) takes {wanted} parameter(s), not {given}")]
    Parameters {
        name: String,
        language: String,
        wanted: usize,
        given: usize,
    },
}

impl Template {
    /// The body with `parameters` in place of its placeholders.
    pub fn render(&self, parameters: &[String]) -> Result<String, TemplateError> {
        if parameters.len() != self.parameters {
            return Err(TemplateError::Parameters {
                name: self.name.clone(),
                language: self.language.clone(),
                wanted: self.parameters,
                given: parameters.len(),
            });
        }
        let mut out = String::with_capacity(self.body.len());
        let mut rest = self.body.as_str();
        while let Some(open) = rest.find("{{") {
            out.push_str(&rest[..open]);
            let after = &rest[open + 2..];
            match placeholder(after) {
                Some((n, len)) if n >= 1 && n <= parameters.len() => {
                    out.push_str(&parameters[n - 1]);
                    rest = &after[len + 2..];
                }
                _ => {
                    out.push_str("{{");
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// `12}}…` → (12, 2): a positional placeholder's number and its digits' length.
fn placeholder(after_open: &str) -> Option<(usize, usize)> {
    let digits = after_open.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 3 || !after_open[digits..].starts_with("}}") {
        return None;
    }
    Some((after_open[..digits].parse().ok()?, digits))
}

/// How many parameters a body takes: its highest placeholder number.
fn parameter_count(body: &str) -> usize {
    let mut highest = 0;
    let mut rest = body;
    while let Some(open) = rest.find("{{") {
        rest = &rest[open + 2..];
        if let Some((n, _)) = placeholder(rest) {
            highest = highest.max(n);
        }
    }
    highest
}

/// The business account's approved templates.
pub async fn list_templates(
    graph: &Graph,
    token: &str,
    business_account_id: &str,
) -> Result<Vec<Template>, GraphError> {
    let path = format!("{business_account_id}/message_templates");
    let mut templates = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let mut query = vec![
            ("status", "APPROVED"),
            ("fields", "name,language,category,status,components"),
            ("limit", "100"),
        ];
        if let Some(cursor) = after.as_deref() {
            query.push(("after", cursor));
        }
        let page = graph.get(token, &path, &query).await?;
        let data = page["data"]
            .as_array()
            .ok_or_else(|| GraphError::Unreadable("a template listing without `data`".into()))?;
        templates.extend(data.iter().filter_map(read_template));
        match (
            page["paging"]["next"].as_str(),
            page["paging"]["cursors"]["after"].as_str(),
        ) {
            (Some(_), Some(cursor)) if !cursor.is_empty() => after = Some(cursor.to_string()),
            _ => break,
        }
    }
    Ok(templates)
}

fn read_template(value: &serde_json::Value) -> Option<Template> {
    if value["status"].as_str() != Some("APPROVED") {
        return None;
    }
    let body = value["components"]
        .as_array()?
        .iter()
        .find(|c| {
            c["type"]
                .as_str()
                .is_some_and(|t| t.eq_ignore_ascii_case("body"))
        })
        .and_then(|c| c["text"].as_str())
        .unwrap_or_default()
        .to_string();
    Some(Template {
        name: value["name"].as_str()?.to_string(),
        language: value["language"].as_str()?.to_string(),
        category: value["category"].as_str().unwrap_or_default().to_string(),
        parameters: parameter_count(&body),
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(body: &str) -> Template {
        Template {
            name: "order_update".into(),
            language: "en_US".into(),
            category: "UTILITY".into(),
            body: body.into(),
            parameters: parameter_count(body),
        }
    }

    #[test]
    fn a_body_is_filled_with_its_parameters_in_order() {
        let t = template("Hi {{1}}, your order {{2}} has shipped. Thanks, {{1}}!");
        assert_eq!(t.parameters, 2);
        let filled = t.render(&["Mina".into(), "#1234".into()]).unwrap();
        assert_eq!(
            filled,
            "Hi Mina, your order #1234 has shipped. Thanks, Mina!"
        );
        assert!(matches!(
            t.render(&["Mina".into()]),
            Err(TemplateError::Parameters {
                wanted: 2,
                given: 1,
                ..
            })
        ));
    }

    #[test]
    fn braces_that_are_not_placeholders_stay_as_they_are() {
        let t = template("Use code {{ABC}} or {{1}} {{");
        assert_eq!(t.parameters, 1);
        assert_eq!(t.render(&["x".into()]).unwrap(), "Use code {{ABC}} or x {{");
    }

    #[test]
    fn only_approved_templates_are_listed() {
        let listed = serde_json::json!({"name": "hello", "language": "en_US", "status": "PENDING",
                                        "category": "UTILITY", "components": [{"type": "BODY", "text": "Hi"}]});
        assert_eq!(read_template(&listed), None);
        let approved = serde_json::json!({"name": "hello", "language": "en_US", "status": "APPROVED",
                                          "category": "UTILITY", "components": [{"type": "HEADER", "format": "TEXT", "text": "Hey"},
                                                                                 {"type": "BODY", "text": "Hi {{1}}"}]});
        assert_eq!(read_template(&approved).unwrap().body, "Hi {{1}}");
    }
}
