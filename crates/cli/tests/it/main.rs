//! Integration tests of the `tollgate` binary, in one test binary (link time matters on small machines):
//! offline commands first, then the client commands against a real `tollgate serve` started per test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers outside #[test] fns
mod agent;
mod cluster;
mod dpop;
mod explain;
mod federation;
mod harness;
mod logs;
mod oag;
mod offline;
mod rate_limits;
mod rotate;
mod serve;
mod server_flows;
mod support;
