//! The integration test binary: HTTP conformance cases run against every
//! engine, service administration, and end-to-end runs of the real binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
#[path = "../common/mod.rs"]
mod common;

mod browser;
mod clients;
mod conformance;
mod e2e;
mod export;
mod hardening;
mod hooks;
mod identity;
mod mongo;
mod openapi;
mod policy;
mod postgres;
mod schemas;
mod services;
mod sqlserver;
