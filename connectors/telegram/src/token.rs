//! A bot's token, checked for shape at setup: `<bot id>:<key>` as BotFather hands it out.

use secrecy::{ExposeSecret, SecretString};

/// A bot token, kept secret (zeroed when dropped, never printed).
#[derive(Clone)]
pub struct BotToken(SecretString);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`bot_token` must look like 123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11: the bot's id, a \
     colon and the key BotFather gave"
)]
pub struct TokenError;

impl BotToken {
    /// The token if it has the Bot API's shape: digits, a colon, then at least 30 characters
    /// of letters, digits, `_` and `-`. Anything else would only fail later, at Telegram.
    pub fn parse(token: &str) -> Result<BotToken, TokenError> {
        let token = token.trim();
        let (id, key) = token.split_once(':').ok_or(TokenError)?;
        let id_ok = (1..=20).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit());
        let key_ok = (30..=100).contains(&key.len())
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if id_ok && key_ok {
            Ok(BotToken(SecretString::from(token.to_string())))
        } else {
            Err(TokenError)
        }
    }

    /// The bot's own id, the part before the colon: not secret.
    pub fn bot_id(&self) -> &str {
        self.expose().split(':').next().unwrap_or_default()
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for BotToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BotToken({}:…)", self.bot_id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_token_shape_is_taken_and_its_bot_id_read() {
        let token = BotToken::parse(" 123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11 ").unwrap();
        assert_eq!(token.bot_id(), "123456");
        assert_eq!(token.expose(), "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11");
        assert!(!format!("{token:?}").contains("ABC"), "never printed");
    }

    #[test]
    fn other_shapes_are_refused() {
        for bad in [
            "",
            "ABC-DEF1234ghIkl-zyx57W2v1u123ew11",
            "12a456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11",
            "123456:short",
            "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11/../getMe",
            "123456:ABC DEF1234ghIkl-zyx57W2v1u123ew11xx",
        ] {
            assert_eq!(BotToken::parse(bad).unwrap_err(), TokenError, "{bad}");
        }
    }
}
