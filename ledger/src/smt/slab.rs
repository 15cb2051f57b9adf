//! A growable array in fixed-size chunks: growing never moves what is
//! already stored.
//!
//! The state tree's node slabs grow with the state (millions of nodes). In
//! one `Vec`, each doubling copied the whole slab into freshly faulted
//! memory while a commit waited; here a full chunk stays where it is and
//! the next one is allocated beside it.

use std::ops::{Index, IndexMut};

/// Entries per chunk (a power of two).
const CHUNK: usize = 1 << 14;

#[derive(Debug)]
pub(super) struct Slab<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Slab<T> {
    pub(super) fn new() -> Self {
        Slab {
            chunks: Vec::new(),
            len: 0,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Appends `value` at index `len()`.
    pub(super) fn push(&mut self, value: T) {
        if self.len.is_multiple_of(CHUNK) {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        if let Some(last) = self.chunks.last_mut() {
            last.push(value);
            self.len += 1;
        }
    }
}

impl<T> Index<usize> for Slab<T> {
    type Output = T;

    fn index(&self, i: usize) -> &T {
        &self.chunks[i / CHUNK][i % CHUNK]
    }
}

impl<T> IndexMut<usize> for Slab<T> {
    fn index_mut(&mut self, i: usize) -> &mut T {
        &mut self.chunks[i / CHUNK][i % CHUNK]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_across_chunks_and_never_moves_stored_entries() {
        let mut s = Slab::new();
        for i in 0..(3 * CHUNK + 5) {
            s.push(i);
        }
        assert_eq!(s.len(), 3 * CHUNK + 5);
        let first: *const usize = &s[0];
        for i in [0, 1, CHUNK - 1, CHUNK, 2 * CHUNK + 7, 3 * CHUNK + 4] {
            assert_eq!(s[i], i);
        }
        s[CHUNK] = 42;
        assert_eq!(s[CHUNK], 42);
        assert_eq!(s[CHUNK + 1], CHUNK + 1);
        for i in 0..CHUNK {
            s.push(i);
        }
        assert!(std::ptr::eq(first, &s[0]), "a chunk moved while growing");
        assert_eq!(s.chunks.len(), 5);
    }
}
