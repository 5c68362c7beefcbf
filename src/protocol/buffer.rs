//! A transport's write buffer: the bytes the socket has not taken yet.

/// A byte queue as one contiguous slice: appended at the back, consumed from
/// the front by the socket. The consumed prefix is reclaimed when it is
/// worth moving the rest (so appends and writes stay amortised O(1)), and the
/// storage is released once the buffer empties after a big burst.
#[derive(Default)]
pub(super) struct WriteBuf {
    data: Vec<u8>,
    /// Bytes of `data` already written.
    head: usize,
}

/// Capacity kept when the buffer empties; more is given back.
const KEEP: usize = 64 * 1024;

impl WriteBuf {
    pub(super) fn len(&self) -> usize {
        self.data.len() - self.head
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes still to write.
    pub(super) fn pending(&self) -> &[u8] {
        &self.data[self.head..]
    }

    pub(super) fn push(&mut self, bytes: &[u8]) {
        if self.head > 0 && self.head >= self.data.len() / 2 {
            self.data.drain(..self.head);
            self.head = 0;
        }
        self.data.extend_from_slice(bytes);
    }

    /// `n` bytes of the front were written.
    pub(super) fn consume(&mut self, n: usize) {
        self.head += n;
        debug_assert!(self.head <= self.data.len());
        if self.head == self.data.len() {
            self.clear();
        }
    }

    pub(super) fn clear(&mut self) {
        self.data.clear();
        self.head = 0;
        if self.data.capacity() > KEEP {
            self.data = Vec::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::WriteBuf;

    #[test]
    fn keeps_order_across_partial_writes() {
        let mut b = WriteBuf::default();
        b.push(b"hello ");
        b.consume(2);
        b.push(b"world");
        assert_eq!(b.pending(), b"llo world");
        b.consume(3);
        b.push(b"!");
        assert_eq!(b.pending(), b" world!");
        b.consume(7);
        assert!(b.is_empty());
    }
}
