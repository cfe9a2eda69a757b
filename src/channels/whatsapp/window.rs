//! WhatsApp's customer-service window: a business may answer in free text only within 24 hours
//! of the customer's last message; after that only an approved template may go. The check a
//! reply passes, the templates agents may pick (listed from Meta), and the text a template reply
//! stores (its body, filled in).

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use switchboard_connector_core::ChannelKind;
use switchboard_connector_meta::whatsapp::{self, Template, TemplateSend};
use utoipa::ToSchema;

use super::{graph, WhatsappSecrets, WhatsappSettings};
use crate::channels::{hooks, ChannelContext, ChannelError};
use crate::domain::{now_millis, Conversation, Direction, Id, Inbox, Millis};
use crate::edge::error::{ApiResult, ErrorBody};
use crate::edge::extract::ApiPath;
use crate::limits;
use crate::store::{Page, Principal};

/// The window's length: 24 hours from the customer's last message.
pub const WINDOW_MS: Millis = 24 * 60 * 60 * 1000;
/// Messages read a page at a time while looking for the customer's last one.
const PAGE: i64 = 500;
/// Longest template parameter taken, in characters (Meta caps a whole body at 1,024).
const MAX_PARAMETER_CHARS: usize = 1024;

/// Whether free text may go now, given when the customer last wrote (`None`: never).
pub fn window_open(last_customer_message_at: Option<Millis>, now: Millis) -> bool {
    last_customer_message_at.is_some_and(|at| now - at < WINDOW_MS)
}

/// When the customer last wrote in the conversation: the time WhatsApp gave the message (it
/// starts Meta's window) where it is earlier than when the hub stored it.
async fn last_customer_message_at(
    ctx: &ChannelContext,
    conversation: &Conversation,
) -> Result<Option<Millis>, ChannelError> {
    let store = ctx.desk.store();
    let mut last = None;
    let mut page = Page {
        after: None,
        limit: PAGE,
    };
    loop {
        let messages = store
            .list_messages(conversation.workspace_id, conversation.id, &page)
            .await
            .map_err(|e| ChannelError::Internal(e.to_string()))?;
        for message in messages
            .iter()
            .filter(|m| m.direction == Direction::Incoming)
        {
            let sent_at = message
                .meta
                .as_ref()
                .and_then(|m| m["whatsapp"]["timestamp"].as_i64())
                .map_or(message.created_at, |s| (s * 1000).min(message.created_at));
            last = last.max(Some(sent_at));
        }
        match messages.last() {
            Some(m) if messages.len() as i64 == PAGE => page.after = Some((0, m.id)),
            _ => return Ok(last),
        }
    }
}

/// The inbox's settings and opened secrets.
async fn credentials(
    ctx: &ChannelContext,
    inbox: &Inbox,
) -> Result<(WhatsappSettings, WhatsappSecrets), ChannelError> {
    let settings = WhatsappSettings::of(inbox).map_err(ChannelError::Internal)?;
    let opened = hooks::webhook_inbox::<WhatsappSecrets>(ctx, inbox.id, ChannelKind::Whatsapp)
        .await
        .map_err(|e| ChannelError::Internal(format!("inbox {}'s secrets: {e}", inbox.id)))?;
    Ok((settings, opened.secrets))
}

async fn approved_templates(
    ctx: &ChannelContext,
    inbox: &Inbox,
) -> Result<Vec<Template>, ChannelError> {
    let (settings, secrets) = credentials(ctx, inbox).await?;
    whatsapp::list_templates(
        &graph(ctx),
        &secrets.access_token,
        &settings.business_account_id,
    )
    .await
    .map_err(|e| ChannelError::Invalid(format!("the approved templates could not be listed: {e}")))
}

/// The reply's template, checked for size before anything is asked of Meta.
fn template_of(meta: Option<&serde_json::Value>) -> Result<Option<TemplateSend>, ChannelError> {
    let Some(template) = TemplateSend::from_meta(meta).map_err(ChannelError::Invalid)? else {
        return Ok(None);
    };
    limits::text("template.name", &template.name, limits::IDENTIFIER)?;
    limits::text("template.language", &template.language, limits::LOCALE)?;
    if template.parameters.len() > limits::LIST_ITEMS {
        return Err(ChannelError::Invalid(format!(
            "`template.parameters` has more than {} items",
            limits::LIST_ITEMS
        )));
    }
    for parameter in &template.parameters {
        limits::text("template.parameters[]", parameter, MAX_PARAMETER_CHARS)?;
    }
    Ok(Some(template))
}

/// The approved template the reply names, with its body filled in.
async fn filled_template(
    ctx: &ChannelContext,
    inbox: &Inbox,
    wanted: &TemplateSend,
) -> Result<String, ChannelError> {
    let templates = approved_templates(ctx, inbox).await?;
    let template = templates
        .iter()
        .find(|t| t.name == wanted.name && t.language == wanted.language)
        .ok_or_else(|| {
            ChannelError::Invalid(format!(
                "there is no approved template {:?} in {}; approved: {}",
                wanted.name,
                wanted.language,
                names(&templates)
            ))
        })?;
    template
        .render(&wanted.parameters)
        .map_err(|e| ChannelError::Invalid(e.to_string()))
}

fn names(templates: &[Template]) -> String {
    if templates.is_empty() {
        return "none".into();
    }
    templates
        .iter()
        .map(|t| format!("{} ({})", t.name, t.language))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Free text only inside the window; a template (which must be approved) at any time.
pub(super) async fn check_reply(
    ctx: &ChannelContext,
    inbox: &Inbox,
    conversation: &Conversation,
    meta: Option<&serde_json::Value>,
) -> Result<(), ChannelError> {
    if let Some(template) = template_of(meta)? {
        return filled_template(ctx, inbox, &template).await.map(drop);
    }
    let last = last_customer_message_at(ctx, conversation).await?;
    if window_open(last, now_millis()) {
        return Ok(());
    }
    let why = match last {
        Some(_) => "the customer last wrote more than 24 hours ago",
        None => "the customer has not written in this conversation",
    };
    let choice = match approved_templates(ctx, inbox).await {
        Ok(templates) => format!("approved templates: {}", names(&templates)),
        Err(e) => e.to_string(),
    };
    Err(ChannelError::Invalid(format!(
        "{why}, so WhatsApp takes only an approved template now (send `template` with `name`, \
         `language` and `parameters`); {choice}"
    )))
}

/// The same window for a Twilio WhatsApp sender (Twilio holds its senders to WhatsApp's rule
/// too). Templates go through Twilio's Content API, which the hub does not speak yet: outside
/// the window the agent is told so rather than the reply failing later with Twilio's 63016.
pub(super) async fn check_twilio_reply(
    ctx: &ChannelContext,
    conversation: &Conversation,
    meta: Option<&serde_json::Value>,
) -> Result<(), ChannelError> {
    if template_of(meta)?.is_some() {
        return Err(ChannelError::Invalid(
            "templates are sent from Meta's Cloud API inboxes; through Twilio, use Twilio's \
             Content API"
                .into(),
        ));
    }
    if window_open(
        last_customer_message_at(ctx, conversation).await?,
        now_millis(),
    ) {
        return Ok(());
    }
    Err(ChannelError::Invalid(
        "the customer last wrote more than 24 hours ago (or never here), so WhatsApp takes only \
         an approved template now; Twilio sends those through its Content API, outside the hub"
            .into(),
    ))
}

/// A template reply stores the body the customer reads.
pub(super) async fn template_text(
    ctx: &ChannelContext,
    inbox: &Inbox,
    meta: Option<&serde_json::Value>,
) -> Result<Option<String>, ChannelError> {
    match template_of(meta)? {
        Some(template) => filled_template(ctx, inbox, &template).await.map(Some),
        None => Ok(None),
    }
}

/// An approved message template, as agents pick it.
#[derive(Serialize, ToSchema)]
pub struct TemplateView {
    pub name: String,
    pub language: String,
    /// `MARKETING`, `UTILITY` or `AUTHENTICATION`.
    pub category: String,
    /// The body's text, with `{{1}}`, `{{2}}`… where the parameters go.
    pub body: String,
    /// How many parameters the body takes.
    pub parameters: usize,
}

/// The message templates the inbox may send (Meta's approved ones, for WhatsApp inboxes; other
/// inboxes have none).
#[utoipa::path(get, path = "/api/v1/inboxes/{inbox_id}/templates", tag = "inboxes", security(("bearer" = [])),
    params(("inbox_id" = i64, Path)),
    responses((status = 200, body = Vec<TemplateView>), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(inbox = inbox_id))]
pub async fn list_templates(
    State(ctx): State<ChannelContext>,
    who: Principal,
    ApiPath(inbox_id): ApiPath<Id>,
) -> ApiResult<Json<Vec<TemplateView>>> {
    let inbox = crate::edge::visible::inbox(ctx.desk.store().as_ref(), &who, inbox_id).await?;
    if inbox.kind != ChannelKind::Whatsapp {
        return Ok(Json(Vec::new()));
    }
    let templates = approved_templates(&ctx, &inbox).await?;
    Ok(Json(
        templates
            .into_iter()
            .map(|t| TemplateView {
                name: t.name,
                language: t.language,
                category: t.category,
                body: t.body,
                parameters: t.parameters,
            })
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_open_for_24_hours_after_the_customers_last_message() {
        let now = 1_750_000_000_000;
        assert!(window_open(Some(now), now));
        assert!(window_open(Some(now - WINDOW_MS + 1), now));
        assert!(!window_open(Some(now - WINDOW_MS), now));
        assert!(!window_open(None, now), "no customer message: no window");
    }

    #[test]
    fn a_template_reply_is_held_to_its_limits() {
        let meta = serde_json::json!({"template": {"name": "x", "language": "en", "parameters": vec!["a"; 51]}});
        assert!(template_of(Some(&meta)).is_err());
        let meta = serde_json::json!({"template": {"name": "x", "language": "en", "colour": 1}});
        assert!(template_of(Some(&meta)).is_err());
        assert!(template_of(None).unwrap().is_none());
    }
}
