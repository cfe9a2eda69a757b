//! Contacts the desk makes on its own: a website visitor starting a session, or answering the
//! pre-chat form.

use switchboard_connector_core::InboundSender;

use super::Desk;
use crate::domain::{now_millis, Contact, Id};
use crate::store::{StoreError, Unverified};

impl Desk {
    /// The contact these identities name, created (and announced) when there is none.
    #[tracing::instrument(skip_all, fields(workspace = workspace_id))]
    pub async fn find_or_create_contact(
        &self,
        workspace_id: Id,
        sender: InboundSender,
        unverified: Unverified,
    ) -> Result<Contact, StoreError> {
        let (contact, events) = self
            .store()
            .widget()
            .find_or_create_contact(workspace_id, sender, unverified, now_millis())
            .await?;
        self.publish(&events);
        Ok(contact)
    }
}
