//! Gatehouse's own data: the system store (services, users, apps, sessions,
//! event scripts), secrets, the registry of mounted services and the
//! credential cache. The admin API over them is `crate::http::admin`.

pub mod credential_cache;
pub mod secrets;
pub mod services;
pub mod store;
