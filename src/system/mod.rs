//! Gatehouse's own data: the system store, secrets, and the admin API over
//! services, users, apps and the policy.

pub mod admin;
pub mod apps;
pub mod credential_cache;
pub mod event_scripts;
pub mod fields;
pub mod policy;
pub mod secrets;
pub mod services;
pub mod store;
pub mod users;
