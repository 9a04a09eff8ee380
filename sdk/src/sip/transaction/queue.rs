//! The output queues of a transaction (messages to send, events to tell).

use std::collections::VecDeque;

/// A FIFO that gives its buffer back once drained.
///
/// A transaction queues one or two items at a time and is drained at once,
/// but lives on for Timer K or D (5 s and 32 s over UDP) after its last
/// output: a `VecDeque` would keep a buffer for four messages (about 1 KiB)
/// through that wait, for every one of the thousands of transactions a
/// burst leaves Completed.
#[derive(Debug)]
pub(super) struct Queue<T>(VecDeque<T>);

impl<T> Default for Queue<T> {
    fn default() -> Self {
        Self(VecDeque::new())
    }
}

impl<T> Queue<T> {
    pub(super) fn push(&mut self, item: T) {
        self.0.push_back(item);
    }

    /// The oldest item; the buffer is freed when this empties the queue.
    pub(super) fn pop(&mut self) -> Option<T> {
        let item = self.0.pop_front();
        if self.0.is_empty() && self.0.capacity() > 0 {
            self.0 = VecDeque::new();
        }
        item
    }
}

#[cfg(test)]
mod tests {
    use super::Queue;

    #[test]
    fn a_drained_queue_holds_no_buffer() {
        let mut queue = Queue::default();
        queue.push(1);
        queue.push(2);
        assert_eq!(queue.pop(), Some(1));
        assert!(queue.0.capacity() > 0);
        assert_eq!(queue.pop(), Some(2));
        assert_eq!(queue.0.capacity(), 0);
        assert_eq!(queue.pop(), None);
        queue.push(3);
        assert_eq!(queue.pop(), Some(3));
    }
}
