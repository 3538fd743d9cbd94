//! Gatehouse's own data: the system store, secrets, services and their admin API.

pub mod admin;
pub mod secrets;
pub mod services;
pub mod store;
