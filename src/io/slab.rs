//! The table from `mio::Token` to the readiness state of a registered source.
//!
//! A token is a slot index plus the slot's generation, so an event still in
//! flight for a source that was deregistered (and whose slot was reused)
//! finds a different generation and is dropped instead of waking a stranger.

// Under loom the table is only reachable from the model hooks.
#![cfg_attr(loom, allow(dead_code))]

use super::scheduled_io::ScheduledIo;
use crate::loom::sync::Arc;

const INDEX_BITS: u32 = 24;
const INDEX_MASK: usize = (1 << INDEX_BITS) - 1;

#[derive(Default)]
pub(crate) struct Sources {
    slots: Vec<Slot>,
    free: Vec<usize>,
    len: usize,
}

struct Slot {
    generation: usize,
    io: Option<Arc<ScheduledIo>>,
}

impl Sources {
    /// Stores `io` and returns its token value; `None` if the table is full.
    pub(crate) fn insert(&mut self, io: Arc<ScheduledIo>) -> Option<usize> {
        let index = match self.free.pop() {
            Some(i) => i,
            None => {
                if self.slots.len() > INDEX_MASK - 1 {
                    return None;
                }
                self.slots.push(Slot {
                    generation: 0,
                    io: None,
                });
                self.slots.len() - 1
            }
        };
        let slot = &mut self.slots[index];
        slot.io = Some(io);
        self.len += 1;
        // +1 keeps token 0 free for the driver's waker.
        Some(((slot.generation << INDEX_BITS) | index) + 1)
    }

    pub(crate) fn get(&self, token: usize) -> Option<&Arc<ScheduledIo>> {
        let (index, generation) = split(token)?;
        let slot = self.slots.get(index)?;
        if slot.generation != generation {
            return None;
        }
        slot.io.as_ref()
    }

    pub(crate) fn remove(&mut self, token: usize) -> Option<Arc<ScheduledIo>> {
        let (index, generation) = split(token)?;
        let slot = self.slots.get_mut(index)?;
        if slot.generation != generation {
            return None;
        }
        let io = slot.io.take()?;
        // One bit short of the full width: tokens stay below `usize::MAX`,
        // which the driver reserves for its watch alarm.
        slot.generation = (slot.generation + 1) & (usize::MAX >> (INDEX_BITS + 1));
        self.free.push(index);
        self.len -= 1;
        Some(io)
    }

    /// Every registered source (for shutdown).
    pub(crate) fn drain(&mut self) -> Vec<Arc<ScheduledIo>> {
        self.free.clear();
        self.len = 0;
        self.slots.drain(..).filter_map(|s| s.io).collect()
    }
}

fn split(token: usize) -> Option<(usize, usize)> {
    let t = token.checked_sub(1)?;
    Some((t & INDEX_MASK, t >> INDEX_BITS))
}
