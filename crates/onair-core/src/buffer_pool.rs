//! [`BufferPool`]: frame-sized byte buffers that come back when the last [`bytes::Bytes`] made
//! from them is dropped, so a source producing a frame per tick allocates (and the kernel
//! zeroes and maps) nothing once the pipeline's few frames in flight exist.
//!
//! A buffer leaves the pool with [`BufferPool::take`], is filled, and becomes the frame's
//! `Bytes` with [`PooledBuffer::freeze`] (no copy: `Bytes::from_owner`). When every clone of
//! that `Bytes` is gone, the buffer returns to the pool, unless the pool already keeps
//! `keep` buffers or was dropped; then it is freed. Buffers are never shared while in use.

use bytes::Bytes;
use std::sync::{Arc, Mutex, Weak};

/// The free list shared by a pool and the buffers it lent.
#[derive(Debug)]
struct Free {
    buffers: Mutex<Vec<(Vec<u8>, u64)>>,
    keep: usize,
}

/// A pool of equally sized byte buffers.
#[derive(Debug, Clone)]
pub struct BufferPool {
    free: Arc<Free>,
    len: usize,
}

impl BufferPool {
    /// Buffers of `len` bytes; at most `keep` idle ones are kept.
    pub fn new(len: usize, keep: usize) -> Self {
        Self {
            free: Arc::new(Free {
                buffers: Mutex::new(Vec::with_capacity(keep)),
                keep,
            }),
            len,
        }
    }

    /// The length of every buffer.
    pub fn buffer_len(&self) -> usize {
        self.len
    }

    /// Idle buffers held now.
    pub fn idle(&self) -> usize {
        self.free.buffers.lock().map_or(0, |b| b.len())
    }

    /// A buffer of [`BufferPool::buffer_len`] bytes: a returned one (holding what it held
    /// before, and its [`PooledBuffer::mark`]) or a new, zeroed one (mark 0).
    pub fn take(&self) -> PooledBuffer {
        let reused = self.free.buffers.lock().ok().and_then(|mut b| b.pop());
        let (data, mark) = reused.unwrap_or_else(|| (vec![0; self.len], 0));
        PooledBuffer {
            data,
            mark,
            home: Arc::downgrade(&self.free),
        }
    }
}

/// A buffer lent by a [`BufferPool`]; it goes back when dropped, or when the `Bytes` made by
/// [`PooledBuffer::freeze`] is last dropped.
#[derive(Debug)]
pub struct PooledBuffer {
    data: Vec<u8>,
    mark: u64,
    home: Weak<Free>,
}

impl PooledBuffer {
    /// A value the user keeps with the buffer from one loan to the next (what the bytes hold,
    /// so a producer can redraw only what changed); 0 for a new buffer.
    pub fn mark(&self) -> u64 {
        self.mark
    }

    /// Sets [`PooledBuffer::mark`].
    pub fn set_mark(&mut self, mark: u64) {
        self.mark = mark;
    }

    /// The bytes, to fill.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.data
    }

    /// Read-only `Bytes` over this buffer, without a copy.
    pub fn freeze(self) -> Bytes {
        Bytes::from_owner(self)
    }
}

impl AsRef<[u8]> for PooledBuffer {
    fn as_ref(&self) -> &[u8] {
        &self.data
    }
}

impl Drop for PooledBuffer {
    fn drop(&mut self) {
        let Some(free) = self.home.upgrade() else {
            return;
        };
        let Ok(mut buffers) = free.buffers.lock() else {
            return;
        };
        if buffers.len() < free.keep {
            buffers.push((std::mem::take(&mut self.data), self.mark));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_comes_back_when_its_last_bytes_is_dropped() {
        let pool = BufferPool::new(16, 2);
        let mut b = pool.take();
        assert_eq!(b.mark(), 0);
        b.as_mut_slice()[0] = 7;
        let ptr = b.as_ref().as_ptr();
        let bytes = b.freeze();
        let clone = bytes.clone();
        drop(bytes);
        assert_eq!(pool.idle(), 0, "a clone still holds it");
        assert_eq!(clone[0], 7);
        drop(clone);
        assert_eq!(pool.idle(), 1);
        let again = pool.take();
        assert_eq!(
            again.as_ref().as_ptr(),
            ptr,
            "the same memory is lent again"
        );
        assert_eq!(again.as_ref()[0], 7, "returned buffers keep their bytes");
    }

    #[test]
    fn the_pool_keeps_at_most_keep_buffers_and_outliving_buffers_are_freed() {
        let pool = BufferPool::new(8, 1);
        let (a, b) = (pool.take(), pool.take());
        drop(a);
        drop(b);
        assert_eq!(pool.idle(), 1);
        let c = pool.take().freeze();
        drop(pool);
        assert_eq!(c.len(), 8, "a frame outlives its pool");
        drop(c);
    }
}
