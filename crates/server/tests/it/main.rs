//! End-to-end tests of `tollgate serve` over real HTTP on 127.0.0.1 with a temporary SQLite file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod api_tokens;
mod app_keys;
mod apps;
mod auth_servers;
mod authz;
mod console;
mod custom_servers;
mod dcr;
mod dpop;
mod federation;
mod fuzz;
mod hardening;
mod harness;
mod instances;
mod jwks_uri;
mod last_used;
mod mgmt;
mod oag;
mod outbound;
mod rate_limits;
mod resource;
mod slow_clients;
mod system_log;
mod tls;
mod token;
mod users;
