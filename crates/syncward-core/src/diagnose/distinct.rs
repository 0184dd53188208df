//! Bounded distinct counting: exact up to a cap, then a HyperLogLog estimate
//! (about 1.6% standard error with 4,096 registers). Memory never grows with
//! the input; a count that became an estimate says so.

use std::collections::HashSet;
use std::hash::{BuildHasher, Hash};

const REGISTER_BITS: u32 = 12;
const REGISTERS: usize = 1 << REGISTER_BITS;

/// One hash function for every bounded structure of the analyzer, so a key
/// hashes the same everywhere (and across runs: the seed is fixed).
pub fn hash_of<T: Hash + ?Sized>(value: &T) -> u64 {
    foldhash::fast::FixedState::with_seed(0x5eed_5a7c).hash_one(value)
}

/// A finaliser (MurmurHash3's fmix64) so every bit of the hash is well mixed
/// before HyperLogLog reads its leading zeros.
fn mix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

#[derive(Clone, Debug)]
pub struct Distinct {
    exact: Option<HashSet<u64, foldhash::fast::FixedState>>,
    registers: Box<[u8]>,
    cap: usize,
}

impl Distinct {
    pub fn with_cap(cap: usize) -> Self {
        Distinct {
            exact: Some(HashSet::with_hasher(foldhash::fast::FixedState::default())),
            registers: vec![0u8; REGISTERS].into_boxed_slice(),
            cap,
        }
    }

    /// An estimate only: for counts whose exact value is kept elsewhere
    /// while it fits (the analyzer's record table).
    pub fn estimate_only() -> Self {
        Distinct {
            exact: None,
            registers: vec![0u8; REGISTERS].into_boxed_slice(),
            cap: 0,
        }
    }

    pub fn insert_hash(&mut self, h: u64) {
        let m = mix(h);
        let idx = (m >> (64 - REGISTER_BITS)) as usize;
        let rank = ((m << REGISTER_BITS) | (1 << (REGISTER_BITS - 1))).leading_zeros() as u8 + 1;
        if rank > self.registers[idx] {
            self.registers[idx] = rank;
        }
        self.insert_exact(h);
    }

    fn insert_exact(&mut self, h: u64) {
        if let Some(set) = &mut self.exact {
            set.insert(h);
            if set.len() > self.cap {
                self.exact = None;
            }
        }
    }

    pub fn contains_hash(&self, h: u64) -> Option<bool> {
        self.exact.as_ref().map(|s| s.contains(&h))
    }

    pub fn count(&self) -> u64 {
        match &self.exact {
            Some(set) => set.len() as u64,
            None => self.estimate(),
        }
    }

    pub fn is_approximate(&self) -> bool {
        self.exact.is_none()
    }

    fn estimate(&self) -> u64 {
        let m = REGISTERS as f64;
        let alpha = 0.7213 / (1.0 + 1.079 / m);
        let mut sum = 0.0;
        let mut zeros = 0usize;
        for &r in self.registers.iter() {
            sum += 2f64.powi(-i32::from(r));
            if r == 0 {
                zeros += 1;
            }
        }
        let raw = alpha * m * m / sum;
        let est = if raw <= 2.5 * m && zeros > 0 {
            m * (m / zeros as f64).ln()
        } else {
            raw
        };
        est.round() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_below_the_cap_estimate_above() {
        let mut d = Distinct::with_cap(1000);
        for i in 0..500u64 {
            d.insert_hash(hash_of(&i));
            d.insert_hash(hash_of(&i));
        }
        assert_eq!(d.count(), 500);
        assert!(!d.is_approximate());
        for i in 0..200_000u64 {
            d.insert_hash(hash_of(&i));
        }
        assert!(d.is_approximate());
        let c = d.count() as f64;
        assert!((c - 200_000.0).abs() / 200_000.0 < 0.05, "{c}");
    }
}
