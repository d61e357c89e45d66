//! The System Log: what happened, who did it, to what, and whether it worked — Okta's `LogEvent`s,
//! recorded off the hot path ([`writer`]), queried at `GET /api/v1/logs` ([`api`]). Management changes are
//! recorded in one place, a middleware ([`audit`]); token, introspection and revocation outcomes by the
//! OAuth dispatcher; key rotation by the signing-key scheduler.
pub(crate) mod api;
pub(crate) mod audit;
pub(crate) mod event;
pub(crate) mod oauth;
pub(crate) mod writer;

pub(crate) use event::{Event, Party, RequestContext};
pub(crate) use writer::EventLog;
