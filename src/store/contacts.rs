//! The store's room for contacts created by hand and listed for agents (ingest finds or creates
//! the contacts of incoming messages itself, in its own transaction).

use async_trait::async_trait;
use switchboard_connector_core::phone::PhoneRegion;
use switchboard_connector_core::Identity;

use super::{Page, Result};
use crate::domain::{Contact, Id};

pub struct NewContact {
    pub workspace_id: Id,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub attributes: serde_json::Value,
    pub identities: Vec<Identity>,
}

#[async_trait]
pub trait ContactStore: Send + Sync {
    async fn create_contact(&self, contact: NewContact) -> Result<Contact>;
    async fn get_contact(&self, workspace_id: Id, contact_id: Id) -> Result<Option<Contact>>;
    /// The contact known by this identity (give it in its stored form: `Identity::phone`…).
    async fn contact_by_identity(
        &self,
        workspace_id: Id,
        identity: &Identity,
    ) -> Result<Option<Contact>>;
    /// Contacts of the workspace; with `visible` (an agent's inboxes) only those with a
    /// conversation in one of them.
    async fn list_contacts(
        &self,
        workspace_id: Id,
        visible: Option<&[Id]>,
        page: &Page,
    ) -> Result<Vec<Contact>>;
    /// Whether the contact has a conversation in one of these inboxes: how an agent who is not an
    /// admin may see a contact.
    /// Reads every stored phone identity and contact phone that has no country code in
    /// `region` and stores it in E.164, so contacts kept before the region was set are found by
    /// the numbers that now arrive in that form. One that another contact already holds in
    /// that form is left as it is (merging people is a human's call). Answers how many changed.
    async fn phones_in_region(&self, region: PhoneRegion) -> Result<u64>;
    async fn contact_seen_in(
        &self,
        workspace_id: Id,
        contact_id: Id,
        inboxes: &[Id],
    ) -> Result<bool>;
}
