//! Conversation references that survive what mail clients and providers do to a thread.
//!
//! Message-IDs alone are not enough: some providers rewrite them and some clients drop
//! `References`. So every outgoing mail carries the conversation three more ways: a signed
//! `+c<id>-<sig>` tag in its Reply-To address, the same tag inside its own Message-ID, and a
//! hidden marker in its HTML body that travels with the quoted text. Any one of them brings the
//! answer home. The tag is signed so that nobody can post into a conversation by guessing ids.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Signs and recognises conversation tags with a key only the hub knows.
#[derive(Clone)]
pub struct ThreadTags {
    key: Vec<u8>,
}

/// Hex digits of the signature: 48 bits, enough against guessing, short enough for an address.
const SIG_LEN: usize = 12;

impl ThreadTags {
    pub fn new(key: impl Into<Vec<u8>>) -> Self {
        ThreadTags { key: key.into() }
    }

    fn signature(&self, conversation_id: i64) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("any key length is valid");
        mac.update(b"switchboard conversation tag v1:");
        mac.update(conversation_id.to_string().as_bytes());
        let digest = mac.finalize().into_bytes();
        hex::encode(&digest[..SIG_LEN / 2])
    }

    /// `c<id>-<sig>`: what goes after the `+` of a reply address and inside markers.
    pub fn tag(&self, conversation_id: i64) -> String {
        format!("c{conversation_id}-{}", self.signature(conversation_id))
    }

    /// The reply address for a conversation: `support+c42-…@example.com`.
    pub fn reply_address(&self, inbox_address: &str, conversation_id: i64) -> String {
        match inbox_address.rsplit_once('@') {
            Some((local, domain)) => {
                let local = local.split('+').next().unwrap_or(local);
                format!("{local}+{}@{domain}", self.tag(conversation_id))
            }
            None => inbox_address.to_string(),
        }
    }

    /// A Message-ID (without angle brackets) that names the message and its conversation.
    pub fn message_id(&self, message_id: i64, conversation_id: i64, domain: &str) -> String {
        format!("sb-{message_id}.{}@{domain}", self.tag(conversation_id))
    }

    /// The hidden block put at the end of outgoing HTML. Clients quote it along with the rest.
    pub fn html_marker(&self, conversation_id: i64) -> String {
        format!(
            "<div style=\"display:none;font-size:0;line-height:0;max-height:0;overflow:hidden;\
             mso-hide:all\" aria-hidden=\"true\">[ref:{}]</div>",
            self.tag(conversation_id)
        )
    }

    /// Every conversation whose valid tag appears in `text`, in order of appearance.
    pub fn find(&self, text: &str) -> Vec<i64> {
        let bytes = text.as_bytes();
        let mut found = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            // A tag starts right after `+`, `.` or `[ref:` and reads c<digits>-<12 hex>.
            if bytes[i] == b'c' && i > 0 && matches!(bytes[i - 1], b'+' | b'.' | b':') {
                if let Some((id, end)) = self.read_tag(bytes, i) {
                    if !found.contains(&id) {
                        found.push(id);
                    }
                    i = end;
                    continue;
                }
            }
            i += 1;
        }
        found
    }

    fn read_tag(&self, bytes: &[u8], start: usize) -> Option<(i64, usize)> {
        let digits_start = start + 1;
        let mut j = digits_start;
        while j < bytes.len() && bytes[j].is_ascii_digit() && j - digits_start < 18 {
            j += 1;
        }
        if j == digits_start || bytes.get(j) != Some(&b'-') {
            return None;
        }
        let id: i64 = std::str::from_utf8(&bytes[digits_start..j])
            .ok()?
            .parse()
            .ok()?;
        let sig_start = j + 1;
        let sig = bytes.get(sig_start..sig_start + SIG_LEN)?;
        if !sig.iter().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let sig = std::str::from_utf8(sig).ok()?.to_ascii_lowercase();
        (sig == self.signature(id)).then_some((id, sig_start + SIG_LEN))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_address_leads_back_to_its_conversation() {
        let tags = ThreadTags::new(b"key".to_vec());
        let address = tags.reply_address("support@acme.test", 42);
        assert!(address.starts_with("support+c42-"));
        assert!(address.ends_with("@acme.test"));
        assert_eq!(tags.find(&address), vec![42]);
        // Already plus-addressed inboxes keep one tag only.
        let again = tags.reply_address("support+sales@acme.test", 7);
        assert!(again.starts_with("support+c7-"), "{again}");
    }

    #[test]
    fn markers_and_message_ids_are_found_in_quoted_text() {
        let tags = ThreadTags::new(b"key".to_vec());
        let marker = tags.html_marker(9001);
        let quoted = format!("<blockquote>old text {marker}</blockquote>");
        assert_eq!(tags.find(&quoted), vec![9001]);
        let mid = tags.message_id(5, 77, "acme.test");
        assert_eq!(tags.find(&mid), vec![77]);
        // Upper-cased by a provider that rewrites case: still the same tag.
        assert_eq!(
            tags.find(&tags.reply_address("a@b", 3).to_uppercase()),
            Vec::<i64>::new()
        );
        assert_eq!(
            tags.find(&format!(
                "x+{}",
                tags.tag(3).to_uppercase().replacen('C', "c", 1)
            )),
            vec![3]
        );
    }

    #[test]
    fn forged_or_foreign_tags_are_ignored() {
        let ours = ThreadTags::new(b"key".to_vec());
        let theirs = ThreadTags::new(b"another key".to_vec());
        assert!(ours.find(&theirs.reply_address("s@x", 42)).is_empty());
        assert!(ours.find("support+c42-000000000000@acme.test").is_empty());
        assert!(ours.find("c42-").is_empty());
        assert!(ours
            .find("+c99999999999999999999999-abcdefabcdef")
            .is_empty());
    }
}
