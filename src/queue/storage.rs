//! Where a queue keeps its items: the one thing that differs between
//! [`Queue`](super::Queue), [`LifoQueue`](super::LifoQueue) and
//! [`PriorityQueue`](super::PriorityQueue).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// A queue's item store, in the queue's order.
pub(crate) trait Storage: Default {
    type Item;

    fn len(&self) -> usize;

    /// Adds an item put into the queue.
    fn push(&mut self, item: Self::Item);

    /// Takes the next item out, in this kind's order.
    fn pop(&mut self) -> Option<Self::Item>;

    /// Returns an item that was taken out for a `get` that was then
    /// cancelled, so that it is the next out (where the order allows).
    fn unget(&mut self, item: Self::Item);
}

/// First in, first out.
pub(crate) struct Fifo<T>(VecDeque<T>);

/// Last in, first out.
pub(crate) struct Lifo<T>(Vec<T>);

/// Smallest first.
pub(crate) struct Priority<T>(BinaryHeap<Reverse<T>>);

impl<T> Default for Fifo<T> {
    fn default() -> Self {
        Fifo(VecDeque::new())
    }
}

impl<T> Default for Lifo<T> {
    fn default() -> Self {
        Lifo(Vec::new())
    }
}

impl<T: Ord> Default for Priority<T> {
    fn default() -> Self {
        Priority(BinaryHeap::new())
    }
}

impl<T> Storage for Fifo<T> {
    type Item = T;

    fn len(&self) -> usize {
        self.0.len()
    }

    fn push(&mut self, item: T) {
        self.0.push_back(item);
    }

    fn pop(&mut self) -> Option<T> {
        self.0.pop_front()
    }

    /// Back to the head: it was put before everything still queued.
    fn unget(&mut self, item: T) {
        self.0.push_front(item);
    }
}

impl<T> Storage for Lifo<T> {
    type Item = T;

    fn len(&self) -> usize {
        self.0.len()
    }

    fn push(&mut self, item: T) {
        self.0.push(item);
    }

    fn pop(&mut self) -> Option<T> {
        self.0.pop()
    }

    /// Back on top: the order among the rest is as if it had never left.
    fn unget(&mut self, item: T) {
        self.0.push(item);
    }
}

impl<T: Ord> Storage for Priority<T> {
    type Item = T;

    fn len(&self) -> usize {
        self.0.len()
    }

    fn push(&mut self, item: T) {
        self.0.push(Reverse(item));
    }

    fn pop(&mut self) -> Option<T> {
        self.0.pop().map(|Reverse(item)| item)
    }

    /// The heap puts it back in its place.
    fn unget(&mut self, item: T) {
        self.push(item);
    }
}
