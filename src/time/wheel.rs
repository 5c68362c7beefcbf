//! A hierarchical timing wheel: the timers of one worker.
//!
//! Six levels of 64 slots. Level 0 slots are 1 ms wide and cover the next
//! 64 ms; each level above is 64 times coarser (4 s, 4.4 min, 4.7 h, 12.4 days,
//! 2.2 years). A timer sits in the level of the highest 6-bit group in which
//! its tick differs from the current tick, so inserting and cancelling are
//! O(1): compute the slot, link or unlink the entry. When time reaches a slot
//! of level 1 or above, its entries cascade down to finer slots; at level 0
//! they fire.
//!
//! Entries live in a slab (no allocation per timer once it has grown) and
//! are linked into their slot by index. A `TimerKey` carries a generation so
//! that a stale key (its timer fired and the slot was reused) is recognised.
//!
//! Ordering: a timer fires no earlier than its deadline (deadlines are rounded
//! *up* to the next tick), and the timers that fire together are handed out
//! sorted by deadline and then by insertion order, so equal deadlines fire in
//! the order they were set even if they reached the slot by different paths.

use std::task::Waker;
use std::time::Instant;

const LEVEL_BITS: u32 = 6;
const SLOTS: usize = 1 << LEVEL_BITS;
const LEVELS: usize = 6;
/// Ticks the wheel can hold apart from now; later timers are parked in the
/// last slot and re-inserted when it comes round.
const MAX_SPAN: u64 = 1 << (LEVEL_BITS * LEVELS as u32);
const NIL: u32 = u32::MAX;

/// Identifies an entry in the wheel.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct TimerKey {
    index: u32,
    generation: u32,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Place {
    Free,
    Armed { level: u8, slot: u8 },
    Fired,
}

struct Entry {
    /// The tick at which it fires.
    tick: u64,
    deadline: Instant,
    /// Insertion order, for FIFO among equal deadlines.
    seq: u64,
    place: Place,
    generation: u32,
    waker: Option<Waker>,
    prev: u32,
    next: u32,
}

#[derive(Copy, Clone)]
struct Slot {
    head: u32,
    tail: u32,
}

const EMPTY_SLOT: Slot = Slot {
    head: NIL,
    tail: NIL,
};

/// A fired timer, handed to the caller to wake outside the wheel's lock.
pub(crate) struct Fired {
    pub(crate) deadline: Instant,
    pub(crate) seq: u64,
    pub(crate) waker: Option<Waker>,
}

pub(crate) struct Wheel {
    /// Every timer with `tick <= elapsed` has fired.
    elapsed: u64,
    slots: [[Slot; SLOTS]; LEVELS],
    /// Bit `s` of `occupied[l]` is set iff slot `s` of level `l` is non-empty.
    occupied: [u64; LEVELS],
    entries: Vec<Entry>,
    free: Vec<u32>,
    next_seq: u64,
    armed: usize,
}

impl Default for Wheel {
    fn default() -> Self {
        Wheel::new()
    }
}

impl Wheel {
    pub(crate) fn new() -> Wheel {
        Wheel {
            elapsed: 0,
            slots: [[EMPTY_SLOT; SLOTS]; LEVELS],
            occupied: [0; LEVELS],
            entries: Vec::new(),
            free: Vec::new(),
            next_seq: 0,
            armed: 0,
        }
    }

    /// Timers waiting to fire.
    pub(crate) fn len(&self) -> usize {
        self.armed
    }

    /// Adds a timer firing at `tick` (at the next tick if `tick` has passed).
    pub(crate) fn insert(
        &mut self,
        tick: u64,
        deadline: Instant,
        waker: Option<Waker>,
    ) -> TimerKey {
        let tick = tick.max(self.elapsed + 1);
        let seq = self.next_seq;
        self.next_seq += 1;
        let entry = Entry {
            tick,
            deadline,
            seq,
            place: Place::Free,
            generation: 0,
            waker,
            prev: NIL,
            next: NIL,
        };
        let index = match self.free.pop() {
            Some(i) => {
                let generation = self.entries[i as usize].generation.wrapping_add(1);
                self.entries[i as usize] = Entry {
                    generation,
                    ..entry
                };
                i
            }
            None => {
                let i = u32::try_from(self.entries.len())
                    .expect("more than 4 billion timers on one worker");
                self.entries.push(entry);
                i
            }
        };
        self.link(index);
        self.armed += 1;
        TimerKey {
            index,
            generation: self.entries[index as usize].generation,
        }
    }

    fn entry(&self, key: TimerKey) -> Option<&Entry> {
        self.entries
            .get(key.index as usize)
            .filter(|e| e.generation == key.generation && e.place != Place::Free)
    }

    /// Removes a timer, fired or not. Unknown keys are ignored.
    pub(crate) fn remove(&mut self, key: TimerKey) {
        let Some(entry) = self.entry(key) else { return };
        if let Place::Armed { .. } = entry.place {
            self.unlink(key.index);
            self.armed -= 1;
        }
        let e = &mut self.entries[key.index as usize];
        e.place = Place::Free;
        e.waker = None;
        self.free.push(key.index);
    }

    /// `true` if the timer fired (it stays known until `remove`); otherwise
    /// stores `waker` to be woken when it does.
    pub(crate) fn poll_fired(&mut self, key: TimerKey, waker: &Waker) -> bool {
        let Some(entry) = self.entry(key) else {
            return true;
        };
        if entry.place == Place::Fired {
            return true;
        }
        let e = &mut self.entries[key.index as usize];
        match &e.waker {
            Some(w) if w.will_wake(waker) => {}
            _ => e.waker = Some(waker.clone()),
        }
        false
    }

    /// Takes the wakers of every armed timer (runtime shutdown: they are woken
    /// to find their driver gone).
    pub(crate) fn take_wakers(&mut self) -> Vec<Waker> {
        self.entries
            .iter_mut()
            .filter(|e| matches!(e.place, Place::Armed { .. }))
            .filter_map(|e| e.waker.take())
            .collect()
    }

    /// The tick of the next slot that needs processing (a firing or a
    /// cascade), if any timer is armed.
    pub(crate) fn next_expiration(&self) -> Option<u64> {
        self.next_slot().map(|(tick, _, _)| tick)
    }

    /// The next slot to process: `(tick, level, slot)`. A finer level always
    /// comes first: its occupied slots lie within the current slot of every
    /// coarser level, which holds nothing (entries are placed where their tick
    /// first differs from the current one).
    fn next_slot(&self) -> Option<(u64, usize, usize)> {
        (0..LEVELS).find_map(|level| {
            let occupied = self.occupied[level];
            if occupied == 0 {
                return None;
            }
            let shift = LEVEL_BITS * level as u32;
            let now_slot = ((self.elapsed >> shift) as usize) % SLOTS;
            let distance = occupied.rotate_right(now_slot as u32).trailing_zeros() as usize;
            let slot = (now_slot + distance) % SLOTS;
            let slot_span = 1u64 << shift;
            let level_span = slot_span << LEVEL_BITS;
            let mut tick = (self.elapsed & !(level_span - 1)) + slot as u64 * slot_span;
            if tick <= self.elapsed {
                // The slot is behind us in this rotation: it is due in the next.
                tick += level_span;
            }
            Some((tick, level, slot))
        })
    }

    /// Advances to `now` and moves every due timer to `fired`, sorted by
    /// deadline and then insertion order.
    pub(crate) fn advance(&mut self, now: u64, fired: &mut Vec<Fired>) {
        let start = fired.len();
        while let Some((tick, level, slot)) = self.next_slot() {
            if tick > now {
                break;
            }
            self.elapsed = tick;
            self.process_slot(level, slot, tick, fired);
        }
        // Nothing is due in (elapsed, now]: jumping keeps every slot ahead.
        if now > self.elapsed {
            self.elapsed = now;
        }
        fired[start..].sort_by(|a, b| a.deadline.cmp(&b.deadline).then(a.seq.cmp(&b.seq)));
    }

    /// Empties one slot at `tick`: due entries fire, the others cascade to a
    /// finer level (or, beyond the wheel's span, back into a coarse slot).
    fn process_slot(&mut self, level: usize, slot: usize, tick: u64, fired: &mut Vec<Fired>) {
        let mut index = self.slots[level][slot].head;
        self.slots[level][slot] = EMPTY_SLOT;
        self.occupied[level] &= !(1 << slot);
        while index != NIL {
            let e = &mut self.entries[index as usize];
            let next = e.next;
            e.prev = NIL;
            e.next = NIL;
            if e.tick <= tick {
                e.place = Place::Fired;
                self.armed -= 1;
                fired.push(Fired {
                    deadline: e.deadline,
                    seq: e.seq,
                    waker: e.waker.take(),
                });
            } else {
                self.link(index);
            }
            index = next;
        }
    }

    fn level_and_slot(&self, tick: u64) -> (usize, usize) {
        // Timers further out than the wheel spans wait in the last reachable
        // slot and are re-linked when it is processed.
        let tick = tick.min(self.elapsed + MAX_SPAN - 1);
        let masked = ((self.elapsed ^ tick) | (SLOTS as u64 - 1)).min(MAX_SPAN - 1);
        let significant = 63 - masked.leading_zeros();
        let level = (significant / LEVEL_BITS) as usize;
        let slot = ((tick >> (LEVEL_BITS * level as u32)) as usize) % SLOTS;
        (level, slot)
    }

    fn link(&mut self, index: u32) {
        let (level, slot) = self.level_and_slot(self.entries[index as usize].tick);
        let tail = self.slots[level][slot].tail;
        {
            let e = &mut self.entries[index as usize];
            e.place = Place::Armed {
                level: level as u8,
                slot: slot as u8,
            };
            e.prev = tail;
            e.next = NIL;
        }
        if tail == NIL {
            self.slots[level][slot].head = index;
        } else {
            self.entries[tail as usize].next = index;
        }
        self.slots[level][slot].tail = index;
        self.occupied[level] |= 1 << slot;
    }

    fn unlink(&mut self, index: u32) {
        let e = &self.entries[index as usize];
        let Place::Armed { level, slot } = e.place else {
            return;
        };
        let (level, slot, prev, next) = (level as usize, slot as usize, e.prev, e.next);
        if prev == NIL {
            self.slots[level][slot].head = next;
        } else {
            self.entries[prev as usize].next = next;
        }
        if next == NIL {
            self.slots[level][slot].tail = prev;
        } else {
            self.entries[next as usize].prev = prev;
        }
        if self.slots[level][slot].head == NIL {
            self.occupied[level] &= !(1 << slot);
        }
        let e = &mut self.entries[index as usize];
        e.prev = NIL;
        e.next = NIL;
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::time::Duration;

    fn drain(wheel: &mut Wheel, now: u64) -> Vec<u64> {
        let mut fired = Vec::new();
        wheel.advance(now, &mut fired);
        fired.iter().map(|f| f.seq).collect()
    }

    #[test]
    fn fires_at_tick_not_before() {
        let base = Instant::now();
        let mut w = Wheel::new();
        for (i, t) in [5u64, 64, 65, 4095, 4096, 300_000].iter().enumerate() {
            w.insert(*t, base + Duration::from_millis(*t), None);
            assert_eq!(w.entries[i].seq, i as u64);
        }
        let mut seen = Vec::new();
        for now in 0..=300_000u64 {
            for seq in drain(&mut w, now) {
                let tick = [5u64, 64, 65, 4095, 4096, 300_000][seq as usize];
                assert_eq!(tick, now, "timer {seq} fired at {now}, due at {tick}");
                seen.push(seq);
            }
        }
        assert_eq!(seen, vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(w.len(), 0);
    }

    #[test]
    fn jumps_fire_everything_due_in_deadline_then_fifo_order() {
        let base = Instant::now();
        let mut w = Wheel::new();
        // Same deadline, inserted at different times: one via a coarse level.
        let d = base + Duration::from_millis(100);
        w.insert(100, d, None); // seq 0, level 1
        w.advance(50, &mut Vec::new());
        w.insert(100, d, None); // seq 1, level 0
        w.insert(70, base + Duration::from_millis(70), None); // seq 2
        assert_eq!(drain(&mut w, 1000), vec![2, 0, 1]);
    }

    #[test]
    fn remove_and_reuse() {
        let base = Instant::now();
        let mut w = Wheel::new();
        let a = w.insert(10, base, None);
        w.remove(a);
        let b = w.insert(20, base, None);
        assert_eq!(a.index, b.index);
        assert_ne!(a.generation, b.generation);
        w.remove(a); // stale: ignored
        assert_eq!(w.len(), 1);
        assert_eq!(drain(&mut w, 20), vec![1]);
        assert!(w.next_expiration().is_none());
    }

    #[test]
    fn far_future_is_reinserted() {
        let base = Instant::now();
        let mut w = Wheel::new();
        let far = MAX_SPAN * 3 + 17;
        w.insert(far, base, None);
        let mut now = 0;
        let mut fired_at = None;
        while fired_at.is_none() {
            let next = w.next_expiration().expect("armed");
            assert!(next >= now);
            now = next;
            if !drain(&mut w, now).is_empty() {
                fired_at = Some(now);
            }
        }
        assert_eq!(fired_at, Some(far));
    }

    #[test]
    fn next_expiration_is_exact_for_level_zero() {
        let base = Instant::now();
        let mut w = Wheel::new();
        w.advance(1000, &mut Vec::new());
        w.insert(1003, base, None);
        assert_eq!(w.next_expiration(), Some(1003));
        assert!(drain(&mut w, 1002).is_empty());
        assert_eq!(drain(&mut w, 1003).len(), 1);
    }
}
