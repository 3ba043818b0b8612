//! Access policy of llm-gateway: who may call, and (in later increments) how much they may
//! spend and how fast. Never names a provider.
//!
//! Today: the master key (`general_settings.master_key`), checked in constant time.

mod master_key;

pub use master_key::{Caller, MasterKey, authorize};
