//! Contacts' SQL: finding the contact behind a sender's identities (or creating it), and the
//! contacts agents list. Compiled once per engine (see sql.rs).

use std::collections::HashMap;

use async_trait::async_trait;
use sqlx::QueryBuilder;
use switchboard_connector_core::phone::{self, PhoneRegion};
use switchboard_connector_core::{Identity, InboundSender};

use super::events_sql::{append_events, PendingEvent};
use super::rows_sql::{
    contact_from_row, is_unique_violation, lock_in_id_order, push_inbox_filter, ContactRow,
    CONTACT_COLS,
};
use super::{Conn, Db, EngineStore};
use crate::domain::*;
use crate::store::{ContactStore, NewContact, Page, Result, StoreError};

async fn contacts_with_identities(c: &mut Conn, rows: Vec<ContactRow>) -> Result<Vec<Contact>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = QueryBuilder::<Db>::new(
        "SELECT contact_id, namespace, identifier FROM contact_identities WHERE contact_id IN (",
    );
    let mut ids = q.separated(", ");
    for r in &rows {
        ids.push_bind(r.id);
    }
    q.push(") ORDER BY id");
    let identities: Vec<(i64, String, String)> = q.build_query_as().fetch_all(&mut *c).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let identities: Vec<ContactIdentity> = identities
                .iter()
                .filter(|(cid, _, _)| *cid == r.id)
                .map(|(_, namespace, identifier)| ContactIdentity {
                    namespace: namespace.clone(),
                    identifier: identifier.clone(),
                })
                .collect();
            contact_from_row(r, identities)
        })
        .collect())
}

pub(super) async fn contact_by_id(
    c: &mut Conn,
    workspace_id: Id,
    id: Id,
) -> Result<Option<Contact>> {
    let row = sqlx::query_as::<Db, ContactRow>(&format!(
        "SELECT {CONTACT_COLS} FROM contacts WHERE workspace_id = $1 AND id = $2"
    ))
    .bind(workspace_id)
    .bind(id)
    .fetch_optional(&mut *c)
    .await?;
    Ok(contacts_with_identities(c, row.into_iter().collect())
        .await?
        .pop())
}

/// Every identity a sender is known by, strongest (the channel's own key) first.
fn identities_of(sender: &InboundSender) -> Vec<Identity> {
    let mut identities = sender.identities.clone();
    if let Some(email) = sender.email.as_deref().filter(|e| !e.trim().is_empty()) {
        identities.push(Identity::email(email));
    }
    if let Some(phone) = sender.phone.as_deref().filter(|p| !p.trim().is_empty()) {
        identities.push(Identity::phone(phone));
    }
    identities
}

/// A workspace's identity, as a key: (workspace, namespace, identifier).
type IdentityKey = (Id, String, String);

fn key_of(workspace_id: Id, identity: &Identity) -> IdentityKey {
    (
        workspace_id,
        identity.namespace.clone(),
        identity.identifier.clone(),
    )
}

/// The contact `identity` names in the workspace, if any.
async fn identity_owner(c: &mut Conn, workspace_id: Id, identity: &Identity) -> Result<Option<Id>> {
    Ok(sqlx::query_scalar::<Db, i64>(
        "SELECT contact_id FROM contact_identities \
         WHERE workspace_id = $1 AND namespace = $2 AND identifier = $3",
    )
    .bind(workspace_id)
    .bind(&identity.namespace)
    .bind(&identity.identifier)
    .fetch_optional(&mut *c)
    .await?)
}

/// The contacts a batch's senders are known by, looked up for the whole batch in one query
/// instead of one per identity per message, and kept current as the batch links identities.
/// An identity looked up and not found names no contact (yet); one never looked up, or
/// forgotten, is asked of the database when it is needed.
#[derive(Default)]
pub(super) struct KnownIdentities {
    owners: HashMap<IdentityKey, Option<Id>>,
}

impl KnownIdentities {
    /// Looks up every identity of these senders, each in its workspace.
    pub(super) async fn look_up<'a>(
        c: &mut Conn,
        senders: impl Iterator<Item = (Id, &'a InboundSender)>,
    ) -> Result<KnownIdentities> {
        let mut owners: HashMap<IdentityKey, Option<Id>> = HashMap::new();
        for (workspace_id, sender) in senders {
            for identity in identities_of(sender) {
                owners.insert(key_of(workspace_id, &identity), None);
            }
        }
        // SQLite allows 32,766 parameters a statement: a batch (128 messages) stays far below.
        for keys in owners.keys().cloned().collect::<Vec<_>>().chunks(1_000) {
            let mut q = QueryBuilder::<Db>::new(
                "SELECT k.column1, k.column2, k.column3, ci.contact_id FROM (",
            );
            q.push_values(keys, |mut row, (workspace_id, namespace, identifier)| {
                row.push_bind(*workspace_id)
                    .push_bind(namespace.as_str())
                    .push_bind(identifier.as_str());
            });
            // A join rather than a row-value IN: SQLite's planner looks each key up in the
            // unique index for a join, and scans the table for the IN.
            q.push(
                ") k JOIN contact_identities ci ON ci.workspace_id = k.column1 \
                 AND ci.namespace = k.column2 AND ci.identifier = k.column3",
            );
            let found: Vec<(i64, String, String, i64)> =
                q.build_query_as().fetch_all(&mut *c).await?;
            for (workspace_id, namespace, identifier, contact) in found {
                owners.insert((workspace_id, namespace, identifier), Some(contact));
            }
        }
        Ok(KnownIdentities { owners })
    }

    /// The contact `identity` names in the workspace, if any.
    async fn owner(
        &self,
        c: &mut Conn,
        workspace_id: Id,
        identity: &Identity,
    ) -> Result<Option<Id>> {
        if let Some(owner) = self.owners.get(&key_of(workspace_id, identity)) {
            return Ok(*owner);
        }
        identity_owner(c, workspace_id, identity).await
    }

    /// `identity` now names `contact` (`None`: someone else took it meanwhile: ask again).
    fn linked(&mut self, workspace_id: Id, identity: &Identity, contact: Option<Id>) {
        let key = key_of(workspace_id, identity);
        match contact {
            Some(contact) => self.owners.insert(key, Some(contact)),
            None => self.owners.remove(&key),
        };
    }

    /// `contact` went away with its identities: what named it is asked again.
    fn forget(&mut self, contact: Id) {
        self.owners.retain(|_, owner| *owner != Some(contact));
    }
}

/// Finds the contact known by any of these identities (strongest first), or creates one; then
/// links every identity not yet taken and fills blank details. Ends holding the contact's row
/// lock, so concurrent messages from the same person serialise from here on.
pub(super) async fn resolve_contact(
    c: &mut Conn,
    workspace_id: Id,
    sender: &InboundSender,
    now: Millis,
) -> Result<(Id, bool)> {
    let known = &mut KnownIdentities::default();
    let (contact_id, created) = find_contact(c, known, workspace_id, sender, now).await?;
    touch_contacts(c, vec![ContactTouch::new(contact_id, sender, now)]).await?;
    Ok((contact_id, created))
}

/// What a message tells of its sender's contact: the details it fills where they are blank,
/// and when the contact was last active.
pub(super) struct ContactTouch {
    contact_id: Id,
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    at: Millis,
}

impl ContactTouch {
    pub(super) fn new(contact_id: Id, sender: &InboundSender, at: Millis) -> ContactTouch {
        ContactTouch {
            contact_id,
            name: sender.name.clone(),
            email: sender.email.as_deref().map(|e| e.trim().to_lowercase()),
            phone: sender.phone.clone(),
            at,
        }
    }
}

/// Fills the contacts' blank details and marks them active: one statement for a batch, each
/// contact's touches folded into one as if applied in order (the first detail given fills a
/// blank, the latest time stands). On PostgreSQL the rows are locked first, in id order, so
/// batches side by side take them in one order and never deadlock on them; the batch holds
/// them to its commit, so concurrent messages from the same person serialise from here on.
pub(super) async fn touch_contacts(c: &mut Conn, touches: Vec<ContactTouch>) -> Result<()> {
    let mut folded: Vec<ContactTouch> = Vec::with_capacity(touches.len());
    for touch in touches {
        match folded.iter_mut().find(|f| f.contact_id == touch.contact_id) {
            Some(f) => {
                f.name = f.name.take().or(touch.name);
                f.email = f.email.take().or(touch.email);
                f.phone = f.phone.take().or(touch.phone);
                f.at = f.at.max(touch.at);
            }
            None => folded.push(touch),
        }
    }
    folded.sort_by_key(|f| f.contact_id);
    for touches in folded.chunks(1_000) {
        lock_in_id_order(c, "contacts", touches.iter().map(|t| t.contact_id)).await?;
        let mut q = QueryBuilder::<Db>::new(
            "UPDATE contacts SET name = COALESCE(contacts.name, k.column2), \
             email = COALESCE(contacts.email, k.column3), \
             phone = COALESCE(contacts.phone, k.column4), last_activity_at = k.column5 \
             FROM (",
        );
        q.push_values(touches, |mut row, touch| {
            row.push_bind(touch.contact_id)
                .push_bind(touch.name.as_deref())
                .push_bind(touch.email.as_deref())
                .push_bind(touch.phone.as_deref())
                .push_bind(touch.at);
        });
        q.push(") AS k WHERE contacts.id = k.column1");
        q.build().execute(&mut *c).await?;
    }
    Ok(())
}

/// Finds the contact known by any of these identities (strongest first), or creates one, and
/// links every identity not yet taken; its details and activity are the caller's to touch
/// (`touch_contacts`). `known` answers the lookups it holds and learns the identities linked
/// here.
pub(super) async fn find_contact(
    c: &mut Conn,
    known: &mut KnownIdentities,
    workspace_id: Id,
    sender: &InboundSender,
    now: Millis,
) -> Result<(Id, bool)> {
    let identities = identities_of(sender);
    if identities.is_empty() {
        return Err(StoreError::Invalid(
            "the sender needs at least one identity".into(),
        ));
    }
    let mut found = None;
    // The identity the contact was found by is stored already: not written again.
    let mut found_by = None;
    for (strength, identity) in identities.iter().enumerate() {
        found = known.owner(c, workspace_id, identity).await?;
        if let Some(contact) = found {
            // Someone else by the channel's own key: a shared email (a site that signs what its
            // users typed, an integration's two customers) never makes two people one contact.
            if strength > 0 && holds_other(c, contact, &identities[0]).await? {
                found = None;
            } else {
                found_by = Some(strength);
            }
            break;
        }
    }
    let (mut contact_id, mut created) = match found {
        Some(id) => (id, false),
        None => {
            let id = sqlx::query_scalar::<Db, i64>(
                "INSERT INTO contacts (workspace_id, name, email, phone, created_at, \
                 last_activity_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
            )
            .bind(workspace_id)
            .bind(&sender.name)
            .bind(sender.email.as_deref().map(|e| e.trim().to_lowercase()))
            .bind(&sender.phone)
            .bind(now)
            .fetch_one(&mut *c)
            .await?;
            (id, true)
        }
    };
    for (i, identity) in identities.iter().enumerate() {
        if found_by == Some(i) {
            continue;
        }
        let linked = sqlx::query_scalar::<Db, i64>(
            "INSERT INTO contact_identities (workspace_id, contact_id, namespace, identifier, \
             created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (workspace_id, namespace, identifier) DO NOTHING RETURNING contact_id",
        )
        .bind(workspace_id)
        .bind(contact_id)
        .bind(&identity.namespace)
        .bind(&identity.identifier)
        .bind(now)
        .fetch_optional(&mut *c)
        .await?;
        known.linked(workspace_id, identity, linked);
    }
    if created {
        // A concurrent first message from the same person may have won the race for the
        // primary identity; if so, theirs is the contact and ours goes away unseen.
        let owner = sqlx::query_scalar::<Db, i64>(
            "SELECT contact_id FROM contact_identities \
             WHERE workspace_id = $1 AND namespace = $2 AND identifier = $3",
        )
        .bind(workspace_id)
        .bind(&identities[0].namespace)
        .bind(&identities[0].identifier)
        .fetch_one(&mut *c)
        .await?;
        if owner != contact_id {
            sqlx::query::<Db>("DELETE FROM contact_identities WHERE contact_id = $1")
                .bind(contact_id)
                .execute(&mut *c)
                .await?;
            sqlx::query::<Db>("DELETE FROM contacts WHERE id = $1")
                .bind(contact_id)
                .execute(&mut *c)
                .await?;
            known.forget(contact_id);
            contact_id = owner;
            created = false;
        }
    }
    Ok((contact_id, created))
}

async fn phones_in_region(c: &mut Conn, region: PhoneRegion) -> Result<u64> {
    let stored = sqlx::query_as::<Db, (i64, i64, String)>(
        "SELECT id, workspace_id, identifier FROM contact_identities \
         WHERE namespace = 'phone' AND identifier NOT LIKE '+%'",
    )
    .fetch_all(&mut *c)
    .await?;
    let mut changed = 0;
    for (id, workspace_id, identifier) in stored {
        let Ok(number) = phone::normalise(&identifier, region) else {
            continue;
        };
        if number == identifier {
            continue;
        }
        changed += sqlx::query::<Db>(
            "UPDATE contact_identities SET identifier = $2 WHERE id = $1 AND NOT EXISTS \
             (SELECT 1 FROM contact_identities o WHERE o.workspace_id = $3 \
              AND o.namespace = 'phone' AND o.identifier = $2)",
        )
        .bind(id)
        .bind(&number)
        .bind(workspace_id)
        .execute(&mut *c)
        .await?
        .rows_affected();
    }
    let phones = sqlx::query_as::<Db, (i64, String)>(
        "SELECT id, phone FROM contacts WHERE phone IS NOT NULL AND phone NOT LIKE '+%'",
    )
    .fetch_all(&mut *c)
    .await?;
    for (id, number) in phones {
        if let Ok(e164) = phone::normalise(&number, region) {
            sqlx::query::<Db>("UPDATE contacts SET phone = $2 WHERE id = $1")
                .bind(id)
                .bind(e164)
                .execute(&mut *c)
                .await?;
        }
    }
    Ok(changed)
}

/// Whether `contact` has an identity in `primary`'s namespace under another identifier.
async fn holds_other(c: &mut Conn, contact: Id, primary: &Identity) -> Result<bool> {
    Ok(sqlx::query_scalar::<Db, i64>(
        "SELECT COUNT(*) FROM contact_identities \
         WHERE contact_id = $1 AND namespace = $2 AND identifier <> $3",
    )
    .bind(contact)
    .bind(&primary.namespace)
    .bind(&primary.identifier)
    .fetch_one(&mut *c)
    .await?
        > 0)
}

#[async_trait]
impl ContactStore for EngineStore {
    #[tracing::instrument(skip_all, fields(workspace = contact.workspace_id))]
    async fn create_contact(&self, contact: NewContact) -> Result<Contact> {
        self.write(move |c| {
            Box::pin(async move {
                let now = now_millis();
                let id = sqlx::query_scalar::<Db, i64>(
                    "INSERT INTO contacts (workspace_id, name, email, phone, attributes, \
                     created_at, last_activity_at) VALUES ($1, $2, $3, $4, $5, $6, $6) \
                     RETURNING id",
                )
                .bind(contact.workspace_id)
                .bind(&contact.name)
                .bind(&contact.email)
                .bind(&contact.phone)
                .bind(contact.attributes.to_string())
                .bind(now)
                .fetch_one(&mut *c)
                .await?;
                for identity in &contact.identities {
                    sqlx::query::<Db>(
                        "INSERT INTO contact_identities (workspace_id, contact_id, namespace, \
                         identifier, created_at) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(contact.workspace_id)
                    .bind(id)
                    .bind(&identity.namespace)
                    .bind(&identity.identifier)
                    .bind(now)
                    .execute(&mut *c)
                    .await
                    .map_err(|e| {
                        if is_unique_violation(&e) {
                            StoreError::Conflict("another contact already has this identity")
                        } else {
                            e.into()
                        }
                    })?;
                }
                let created = contact_by_id(c, contact.workspace_id, id)
                    .await?
                    .ok_or(StoreError::NotFound("contact"))?;
                append_events(
                    c,
                    contact.workspace_id,
                    vec![PendingEvent {
                        kind: EventKind::ContactCreated,
                        inbox_id: None,
                        conversation_id: None,
                        payload: serde_json::to_value(&created).unwrap_or_default(),
                    }],
                    now,
                )
                .await?;
                Ok(created)
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, contact = contact_id))]
    async fn get_contact(&self, workspace_id: Id, contact_id: Id) -> Result<Option<Contact>> {
        let mut c = self.reader().await?;
        contact_by_id(&mut c, workspace_id, contact_id).await
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, namespace = %identity.namespace))]
    async fn contact_by_identity(
        &self,
        workspace_id: Id,
        identity: &Identity,
    ) -> Result<Option<Contact>> {
        let mut c = self.reader().await?;
        let found = identity_owner(&mut c, workspace_id, identity).await?;
        match found {
            Some(id) => contact_by_id(&mut c, workspace_id, id).await,
            None => Ok(None),
        }
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id))]
    async fn list_contacts(
        &self,
        workspace_id: Id,
        visible: Option<&[Id]>,
        page: &Page,
    ) -> Result<Vec<Contact>> {
        let mut c = self.reader().await?;
        let mut q = QueryBuilder::<Db>::new(format!(
            "SELECT {CONTACT_COLS} FROM contacts WHERE workspace_id = "
        ));
        q.push_bind(workspace_id)
            .push(" AND id > ")
            .push_bind(page.after.map_or(0, |(_, id)| id));
        if visible.is_some() {
            q.push(
                " AND EXISTS (SELECT 1 FROM conversations seen \
                 WHERE seen.contact_id = contacts.id",
            );
            push_inbox_filter(&mut q, "seen.inbox_id", visible);
            q.push(")");
        }
        q.push(" ORDER BY id LIMIT ").push_bind(page.limit);
        let rows = q.build_query_as::<ContactRow>().fetch_all(&mut *c).await?;
        contacts_with_identities(&mut c, rows).await
    }

    #[tracing::instrument(skip_all)]
    async fn phones_in_region(&self, region: PhoneRegion) -> Result<u64> {
        if region == PhoneRegion::NONE {
            return Ok(0);
        }
        self.write(move |c| Box::pin(phones_in_region(c, region)))
            .await
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, contact = contact_id))]
    async fn contact_seen_in(
        &self,
        workspace_id: Id,
        contact_id: Id,
        inboxes: &[Id],
    ) -> Result<bool> {
        let mut c = self.reader().await?;
        let mut q = QueryBuilder::<Db>::new(
            "SELECT COUNT(*) FROM (SELECT 1 FROM conversations WHERE workspace_id = ",
        );
        q.push_bind(workspace_id)
            .push(" AND contact_id = ")
            .push_bind(contact_id);
        push_inbox_filter(&mut q, "inbox_id", Some(inboxes));
        q.push(" LIMIT 1) AS seen");
        let found: i64 = q.build_query_scalar().fetch_one(&mut *c).await?;
        Ok(found > 0)
    }
}
