//! Switchboard: an omnichannel interaction hub. Channel connectors ingest every customer message
//! into one conversation store; agents answer from one inbox; replies go back through the
//! channel they came from.
#![forbid(unsafe_code)]

pub mod app;
pub mod attachment_meta;
pub mod auth;
pub mod bus;
pub mod channels;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod desk;
pub mod domain;
pub mod edge;
pub mod email;
pub mod gateway;
pub mod http;
pub mod limits;
pub mod outbound;
pub mod routing;
pub mod signals;
pub mod store;
pub mod telemetry;
pub mod threading;
pub mod widget;

pub use app::Application;
pub use config::Settings;
