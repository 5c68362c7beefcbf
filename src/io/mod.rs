//! I/O readiness: how an event from the OS reaches the task waiting for it.

#[cfg(not(loom))]
pub(crate) mod fd_watch;
#[cfg(not(loom))]
pub(crate) mod registration;
pub(crate) mod scheduled_io;
pub(crate) mod slab;
