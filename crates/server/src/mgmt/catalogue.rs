//! Moved to [`crate::catalogue`] (shared with the token path); kept so that `mgmt` paths do not change.
pub use crate::catalogue::*;
