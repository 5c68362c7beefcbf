//! I/O readiness: how an event from the OS reaches the task waiting for it.

pub(crate) mod scheduled_io;
pub(crate) mod slab;
#[cfg(not(loom))]
pub(crate) mod registration;
#[cfg(not(loom))]
pub(crate) mod fd_watch;
