//! What an agent's emailed reply refers to, so that it threads in the customer's mail client:
//! the Message-IDs of the conversation's mails (for References) and the customer's latest mail
//! (for In-Reply-To). A pure rule over the mails the store read.

/// One mail of the conversation as the customer's client knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadMail {
    /// The Message-ID the customer's client knows the mail by (for a mail that reused another's
    /// Message-ID, the one it shares, not the longer id it is stored under).
    pub message_id: String,
    /// Written by the customer (else by an agent).
    pub incoming: bool,
}

/// What a reply refers to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplyReferences {
    /// Each Message-ID once, oldest first.
    pub message_ids: Vec<String>,
    /// The customer's latest mail: what the reply answers.
    pub answers: Option<String>,
}

/// The references of a reply to `mails` (oldest first). Digest ids (`sha256:…`) stand for mails
/// that came without a Message-ID: a client has nothing to match them with, so they are left out.
pub fn reply_references(mails: &[ThreadMail]) -> ReplyReferences {
    let real = |id: &String| !id.starts_with("sha256:");
    let answers = mails
        .iter()
        .rev()
        .find(|m| m.incoming)
        .map(|m| m.message_id.clone())
        .filter(real);
    let mut seen = std::collections::HashSet::new();
    let message_ids = mails
        .iter()
        .filter(|m| seen.insert(m.message_id.as_str()))
        .map(|m| m.message_id.clone())
        .filter(real)
        .collect();
    ReplyReferences {
        message_ids,
        answers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(id: &str, incoming: bool) -> ThreadMail {
        ThreadMail {
            message_id: id.into(),
            incoming,
        }
    }

    #[test]
    fn a_reply_answers_the_customers_latest_mail_and_names_every_mail_once() {
        let mails = [
            mail("a@x", true),
            mail("b@hub", false),
            mail("c@x", true),
            mail("d@hub", false),
        ];
        assert_eq!(
            reply_references(&mails),
            ReplyReferences {
                message_ids: vec!["a@x".into(), "b@hub".into(), "c@x".into(), "d@hub".into()],
                answers: Some("c@x".into()),
            }
        );
    }

    #[test]
    fn mails_sharing_a_message_id_are_named_once() {
        let mails = [mail("a@x", true), mail("a@x", true), mail("b@hub", false)];
        let refs = reply_references(&mails);
        assert_eq!(refs.message_ids, vec!["a@x".to_string(), "b@hub".into()]);
        assert_eq!(refs.answers, Some("a@x".into()));
    }

    #[test]
    fn mails_without_a_message_id_are_never_referred_to() {
        let mails = [mail("a@x", true), mail("sha256:00ff", true)];
        let refs = reply_references(&mails);
        assert_eq!(refs.message_ids, vec!["a@x".to_string()]);
        // The latest customer mail has no id: there is nothing to answer by id, not an older one.
        assert_eq!(refs.answers, None);
    }

    #[test]
    fn a_conversation_the_agent_started_answers_nothing() {
        let refs = reply_references(&[mail("b@hub", false)]);
        assert_eq!(refs.answers, None);
        assert_eq!(refs.message_ids, vec!["b@hub".to_string()]);
    }
}
