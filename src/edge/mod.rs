//! What every web adapter (the REST API, the widget, the console socket) shares of the web
//! framework, below all of them: the one error type, the extractors, where a request came from,
//! attachments in and out, what a route is (method, path, access rule), and what a caller may see.

pub mod attachments;
pub mod client_address;
pub mod error;
pub mod extract;
pub mod route;
pub mod visible;
