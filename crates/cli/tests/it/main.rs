//! Integration tests of the `tollgate` binary, in one test binary (link time matters on small machines):
//! offline commands first, then the client commands against a real `tollgate serve` started per test.
mod explain;
mod harness;
mod offline;
mod server_flows;
mod support;
