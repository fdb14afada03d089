//! The seeded randomness of sprig's random functions: a SHA-256 stream per call, derived from
//! the render's key and the index of the call within the render, so the same key (the state)
//! gives the same bytes, and different keys give unrelated ones.

use sha2::{Digest, Sha256};

/// A byte stream: `SHA-256(len(key) ‖ key ‖ "score-gen gotemplate random" ‖ call ‖ block)`,
/// block by block (lengths and counters as 8-byte big-endian).
pub(super) struct Stream {
    key: Vec<u8>,
    call: u64,
    block: u64,
    buf: [u8; 32],
    at: usize,
}

impl Stream {
    /// The stream of the next random call of the current render.
    pub(super) fn next_call() -> Self {
        let (key, call) = super::next_random_call();
        Stream {
            key,
            call,
            block: 0,
            buf: [0; 32],
            at: 32,
        }
    }

    /// The next byte.
    pub(super) fn byte(&mut self) -> u8 {
        if self.at == 32 {
            let mut h = Sha256::new();
            h.update((self.key.len() as u64).to_be_bytes());
            h.update(&self.key);
            h.update(b"score-gen gotemplate random");
            h.update(self.call.to_be_bytes());
            h.update(self.block.to_be_bytes());
            self.buf = h.finalize().into();
            self.block += 1;
            self.at = 0;
        }
        let b = self.buf[self.at];
        self.at += 1;
        b
    }

    /// A uniform integer in `0..n` (`n >= 1`), by rejection sampling over 8 bytes.
    pub(super) fn below(&mut self, n: u64) -> u64 {
        if n <= 1 {
            return 0;
        }
        // Accept only values under the largest multiple of n that fits in a u64.
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let mut v = 0u64;
            for _ in 0..8 {
                v = (v << 8) | u64::from(self.byte());
            }
            if v < zone {
                return v % n;
            }
        }
    }

    /// A uniform pick from `set`, by rejection sampling over single bytes when `set` is at
    /// most 256 long.
    pub(super) fn pick(&mut self, set: &[u8]) -> u8 {
        let n = set.len();
        debug_assert!((1..=256).contains(&n));
        let zone = 256 - (256 % n);
        loop {
            let b = usize::from(self.byte());
            if b < zone {
                return set[b % n];
            }
        }
    }
}
