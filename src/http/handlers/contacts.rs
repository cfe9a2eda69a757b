//! Contacts: the people who write in, with every identity they are known by. An agent sees a
//! contact through the inboxes they may see (the contact wrote in one of them); owners and admins
//! see every contact of the workspace.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use switchboard_connector_core::{phone, Identity};
use utoipa::{IntoParams, ToSchema};

use crate::domain::{Contact, EmailAddress, Id};
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, PageQuery, Paged};
use crate::http::AppState;
use crate::limits::{self, LimitError};
use crate::store::{NewContact, Principal};

/// `?limit=&cursor=`, or `?phone=` for the contact with that number.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ContactQuery {
    /// How many items, 1 to 200 (default 50).
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
    /// Only the contact with this phone number, however it is written (`+49 151 …`,
    /// `0049151…`, or `0151…` in the hub's default region).
    pub phone: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/contacts", tag = "contacts", security(("bearer" = [])),
    params(ContactQuery), responses((status = 200, body = Paged<Contact>), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    who: Principal,
    ApiQuery(query): ApiQuery<ContactQuery>,
) -> ApiResult<Json<Paged<Contact>>> {
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .page()?;
    if let Some(raw) = query.phone.as_deref() {
        limits::text("phone", raw, limits::PHONE)?;
        let number = phone::normalise(raw, state.desk.phone_region())
            .map_err(|e| ApiError::Unprocessable(format!("`phone`: {e}")))?;
        let found = state
            .store
            .contact_by_identity(who.workspace_id(), &Identity::new("phone", number))
            .await?;
        let mut visible = Vec::new();
        if let Some(contact) = found {
            // Only a contact the caller may see; one they may not is as if there were none.
            let seen = match who.visible_inboxes() {
                None => true,
                Some(inboxes) => {
                    state
                        .store
                        .contact_seen_in(who.workspace_id(), contact.id, &inboxes)
                        .await?
                }
            };
            if seen {
                visible.push(contact);
            }
        }
        return Ok(Json(Paged::new(visible, page.limit, |c| (0, c.id))));
    }
    let visible = who.visible_inboxes();
    let contacts = state
        .store
        .list_contacts(who.workspace_id(), visible.as_deref(), &page)
        .await?;
    Ok(Json(Paged::new(contacts, page.limit, |c| (0, c.id))))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityInput {
    pub namespace: String,
    pub identifier: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateContact {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    #[serde(default)]
    pub attributes: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub identities: Vec<IdentityInput>,
}

fn check_contact(body: &CreateContact) -> Result<(), LimitError> {
    limits::optional("name", body.name.as_deref(), limits::NAME)?;
    limits::optional("email", body.email.as_deref(), limits::EMAIL)?;
    limits::optional("phone", body.phone.as_deref(), limits::PHONE)?;
    limits::attributes("attributes", &body.attributes)?;
    if body.identities.len() > limits::LIST_ITEMS {
        return Err(LimitError::TooMany {
            field: "identities".into(),
            max: limits::LIST_ITEMS,
        });
    }
    body.identities.iter().enumerate().try_for_each(|(i, id)| {
        limits::text(
            &format!("identities[{i}].namespace"),
            &id.namespace,
            limits::LABEL,
        )?;
        limits::text(
            &format!("identities[{i}].identifier"),
            &id.identifier,
            limits::IDENTIFIER,
        )
    })
}

#[utoipa::path(post, path = "/api/v1/contacts", tag = "contacts", security(("bearer" = [])),
    request_body = CreateContact,
    responses((status = 201, body = Contact), (status = 409, description = "An identity belongs to another contact", body = ErrorBody),
        (status = 422, description = "A field is invalid or longer than its cap", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    who: Principal,
    ApiJson(body): ApiJson<CreateContact>,
) -> ApiResult<(StatusCode, Json<Contact>)> {
    check_contact(&body)?;
    let mut identities: Vec<Identity> = body
        .identities
        .into_iter()
        .map(|i| Identity::new(i.namespace.trim(), i.identifier.trim()))
        .collect();
    let email = match body.email.as_deref() {
        Some(raw) => {
            let email = EmailAddress::parse(raw).map_err(ApiError::Unprocessable)?;
            identities.push(Identity::email(email.as_str()));
            Some(email.as_str().to_string())
        }
        None => None,
    };
    // What a client typed is read strictly (a clear 422), in the hub's region when it has no
    // country code, and stored in the form every channel's numbers take.
    let phone = match body.phone.as_deref() {
        Some(raw) => {
            let number = phone::normalise(raw, state.desk.phone_region())
                .map_err(|e| ApiError::Unprocessable(format!("`phone`: {e}")))?;
            identities.push(Identity::new("phone", number.clone()));
            Some(number)
        }
        None => None,
    };
    for identity in identities.iter_mut().filter(|i| i.namespace == "phone") {
        identity.identifier = phone::normalise(&identity.identifier, state.desk.phone_region())
            .map_err(|e| ApiError::Unprocessable(format!("`identities`: {e}")))?;
    }
    if identities
        .iter()
        .any(|i| i.namespace.is_empty() || i.identifier.is_empty())
    {
        return Err(ApiError::Unprocessable(
            "identities need a namespace and an identifier".into(),
        ));
    }
    identities.dedup();
    let contact = state
        .store
        .create_contact(NewContact {
            workspace_id: who.workspace_id(),
            name: body.name,
            email,
            phone,
            attributes: serde_json::Value::Object(body.attributes),
            identities,
        })
        .await?;
    Ok((StatusCode::CREATED, Json(contact)))
}

#[utoipa::path(get, path = "/api/v1/contacts/{contact_id}", tag = "contacts", security(("bearer" = [])),
    params(("contact_id" = i64, Path)),
    responses((status = 200, body = ContactDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(contact_id): ApiPath<Id>,
) -> ApiResult<Json<ContactDetail>> {
    let contact = visible_contact(&state, &who, contact_id).await?;
    // Only ratings of conversations the caller may see (their inboxes), like the conversations.
    let inboxes = who.visible_inboxes();
    let ratings = state
        .store
        .widget()
        .contact_ratings(who.workspace_id(), contact.id, inboxes.as_deref())
        .await?;
    Ok(Json(ContactDetail { contact, ratings }))
}

/// A contact with the ratings (CSAT) they gave, newest first, of conversations the caller sees.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ContactDetail {
    #[serde(flatten)]
    pub contact: Contact,
    pub ratings: Vec<crate::store::Rating>,
}

/// The contact at this id, if the caller may see it: 404 outside their workspace, 403 inside it
/// when none of the contact's conversations is in an inbox the caller is a member of.
pub async fn visible_contact(
    state: &AppState,
    who: &Principal,
    contact_id: Id,
) -> ApiResult<Contact> {
    let contact = state
        .store
        .get_contact(who.workspace_id(), contact_id)
        .await?
        .ok_or(ApiError::NotFound("contact"))?;
    if let Some(inboxes) = who.visible_inboxes() {
        if !state
            .store
            .contact_seen_in(who.workspace_id(), contact_id, &inboxes)
            .await?
        {
            return Err(ApiError::forbidden(
                "this contact has no conversation in an inbox you are a member of",
            ));
        }
    }
    Ok(contact)
}
