//! Who may do what: password hashing, bearer tokens (and where a request carries one), and the login rate limit. The rules of
//! access themselves live with the `Principal` (store) and are enforced by the HTTP extractors.

pub mod bearer;
mod login_limit;
mod password;
mod rate_limit;
mod token;

pub use bearer::{bearer_token, query_token};
pub use login_limit::{LoginLimiter, LoginPolicy, Reservation};
pub use password::{decoy_hash, hash_password, verify_password};
pub use rate_limit::Throttle;
pub use token::{hash_token, new_token, random_token, TOKEN_PREFIX_API, TOKEN_PREFIX_SESSION};
