//! Per-address counters with a cap on how many distinct addresses are held, for `profile`'s top-N
//! lists: exact while the distinct count stays under the cap; past it, the map is pruned to the
//! heaviest addresses (a batch form of the Space-Saving / Misra-Gries sketches), so memory stays
//! bounded whatever the input and the top-N lists become approximate (and say so).

use ahash::AHashMap;

/// Default cap on distinct addresses per counter (about 50 MB per counter at its fullest).
pub const DEFAULT_MAX_HOSTS: usize = 1_000_000;
/// The smallest cap accepted (a prune keeps a quarter of the cap per ranking).
pub const MIN_MAX_HOSTS: usize = 64;

/// A value ranked two ways (the top-N lists rank by flows and by bytes).
pub trait Ranked: Default {
    /// The first ranking key.
    fn flows(&self) -> u64;
    /// The second ranking key.
    fn bytes(&self) -> u64;
    /// Adds another value.
    fn merge(&mut self, other: &Self);
}

/// Counters keyed by address, holding at most `cap` addresses.
#[derive(Debug, Clone)]
pub struct CappedMap<V> {
    map: AHashMap<i128, V>,
    cap: usize,
    evicted: u64,
}

impl<V: Ranked> CappedMap<V> {
    /// An empty map holding at most `cap` addresses (at least [`MIN_MAX_HOSTS`]).
    pub fn new(cap: usize) -> Self {
        CappedMap {
            map: AHashMap::new(),
            cap: cap.max(MIN_MAX_HOSTS),
            evicted: 0,
        }
    }

    /// The counter of `key`, making room first when the map is full.
    pub fn entry(&mut self, key: i128) -> &mut V {
        if self.map.len() >= self.cap && !self.map.contains_key(&key) {
            self.prune();
        }
        self.map.entry(key).or_default()
    }

    /// Adds another map's counters.
    pub fn merge(&mut self, other: &CappedMap<V>) {
        self.evicted += other.evicted;
        for (k, v) in &other.map {
            self.entry(*k).merge(v);
        }
    }

    /// The addresses held and their counters.
    pub fn iter(&self) -> impl Iterator<Item = (&i128, &V)> {
        self.map.iter()
    }

    /// The cap.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// How many addresses were dropped to stay under the cap (0: the counts are exact).
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// Keeps the addresses above the cap/4-th largest flow count or the cap/4-th largest byte count.
    fn prune(&mut self) {
        let k = self.cap / 4;
        let min_flows = kth_largest(self.map.values().map(V::flows).collect(), k);
        let min_bytes = kth_largest(self.map.values().map(V::bytes).collect(), k);
        let before = self.map.len();
        self.map
            .retain(|_, v| v.flows() > min_flows || v.bytes() > min_bytes);
        self.evicted += (before - self.map.len()) as u64;
        self.map.shrink_to(self.cap);
    }
}

/// The `k`-th largest value (1-based; 0 when there are fewer).
fn kth_largest(mut v: Vec<u64>, k: usize) -> u64 {
    if k == 0 || k > v.len() {
        return 0;
    }
    let i = v.len() - k;
    *v.select_nth_unstable(i).1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, Clone, PartialEq)]
    struct C(u64, u64);

    impl Ranked for C {
        fn flows(&self) -> u64 {
            self.0
        }
        fn bytes(&self) -> u64 {
            self.1
        }
        fn merge(&mut self, o: &Self) {
            self.0 += o.0;
            self.1 += o.1;
        }
    }

    #[test]
    fn exact_under_the_cap() {
        let mut m = CappedMap::<C>::new(100);
        for i in 0..100i128 {
            m.entry(i).merge(&C(i as u64, 1));
        }
        assert_eq!((m.iter().count(), m.evicted()), (100, 0));
    }

    #[test]
    fn heavy_hitters_survive_a_flood_of_distinct_keys() {
        let mut m = CappedMap::<C>::new(64);
        for i in 0..100_000i128 {
            m.entry(1_000_000 + i).merge(&C(1, 1));
            if i % 10 == 0 {
                m.entry(7).merge(&C(1, 0)); // most flows
                m.entry(9).merge(&C(0, 100)); // most bytes
            }
        }
        assert!(m.iter().count() <= 64);
        assert!(m.evicted() > 99_000);
        let get = |k| m.iter().find(|(a, _)| **a == k).map(|(_, v)| v.clone());
        assert_eq!(get(7), Some(C(10_000, 0)));
        assert_eq!(get(9), Some(C(0, 1_000_000)));
    }

    #[test]
    fn kth() {
        assert_eq!(kth_largest(vec![5, 1, 9, 3], 1), 9);
        assert_eq!(kth_largest(vec![5, 1, 9, 3], 2), 5);
        assert_eq!(kth_largest(vec![5], 2), 0);
    }
}
