//! The admin API, `/api/system/*` (the built-in `admin` only): services,
//! users, apps, event scripts and the policy, over `crate::system`.

pub mod apps;
pub mod event_scripts;
pub mod fields;
pub mod policy;
pub mod services;
pub mod users;

/// `{"resource": [...]}`: the list every admin collection answers with.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct List<T> {
    pub resource: Vec<T>,
}
