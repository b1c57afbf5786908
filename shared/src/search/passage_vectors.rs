//! The shop's passage embeddings held in the process, for the vector side of a hybrid passage
//! search with `SEARCH_BACKEND=postgres` (issue 12 §2).
//!
//! Reading embeddings from Postgres costs about 20 µs a passage (a 6 KB TOASTed `real[]` at
//! 1,536 dimensions, sent as 12 KB), and even ranking sign bits in SQL visits every row of the
//! shop at about 2 µs a row. Here each shop's set is loaded once per knowledge-base version
//! (migration V12: every change to `kb_chunks` gives the shop a new version in the same
//! transaction, so a search that reads the version knows whether its copy still matches) and
//! kept compact:
//!
//! * one sign bit per dimension (192 bytes at 1,536 dimensions), ranked by Hamming distance to
//!   choose [`RERANKED`] candidates — about 50 µs for 5,000 passages;
//! * each embedding as 8-bit integers with one scale per vector (1,536 bytes instead of 6,144),
//!   from which the candidates' cosine similarity is computed; its error against the exact
//!   `f32` cosine is below 0.01 (a unit test measures it), far below the gaps that decide a
//!   ranking of `0.5 · lexical + 0.5 · cosine`.
//!
//! About 1.8 KB a passage (9 MB for a shop of 5,000). All shops together stay under the
//! budget (`SEARCH_VECTOR_CACHE_MB`), least recently used first out; a shop whose set alone
//! would not fit is searched in SQL as before (`PostgresSearch`). One load per shop at a time:
//! concurrent searches of a shop whose version changed wait for the one load.

use crate::tenants::TenantId;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// Candidates chosen by sign bits whose cosine similarity is computed (the nearest by Hamming
/// distance; 4× what the SQL path re-ranks, since each costs a microsecond here).
pub const RERANKED: usize = 200;

/// One shop's embeddings of one length (a shop that changed models may hold two lengths).
#[derive(Debug, Default)]
struct Group {
    dimensions: usize,
    ids: Vec<Uuid>,
    /// `words` u64 per vector: bit `i` set when dimension `i` is > 0.
    signs: Vec<u64>,
    /// `dimensions` values per vector, `round(x / scale)`.
    values: Vec<i8>,
    scales: Vec<f32>,
    /// Norm of the quantized vector (in its own units), so a vector's cosine with itself is 1.
    norms: Vec<f32>,
}

impl Group {
    fn words(&self) -> usize {
        self.dimensions.div_ceil(64)
    }

    fn bytes(&self) -> usize {
        self.ids.len() * (16 + 4 + 4 + self.dimensions + self.words() * 8)
    }

    fn push(&mut self, id: Uuid, embedding: &[f32]) {
        self.ids.push(id);
        self.signs.extend(sign_bits(embedding));
        let max = embedding.iter().fold(0f32, |m, x| m.max(x.abs()));
        let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
        let mut norm = 0f64;
        for x in embedding {
            let q = (x / scale).round().clamp(-127.0, 127.0) as i8;
            norm += (q as f64) * (q as f64);
            self.values.push(q);
        }
        self.scales.push(scale);
        self.norms.push(norm.sqrt() as f32);
    }

    /// Cosine similarity of vector `i` with the query (whose norm is given); `None` for an
    /// all-zero vector.
    fn cosine(&self, i: usize, query: &[f32], query_norm: f32) -> Option<f32> {
        let norm = self.norms[i];
        if norm == 0.0 || query_norm == 0.0 {
            return None;
        }
        let v = &self.values[i * self.dimensions..(i + 1) * self.dimensions];
        // Eight lanes, so the compiler can keep them in vector registers.
        let mut lanes = [0f32; 8];
        let (chunks, rest) = (v.chunks_exact(8), v.len() % 8);
        for (c, q) in chunks.zip(query.chunks_exact(8)) {
            for l in 0..8 {
                lanes[l] += c[l] as f32 * q[l];
            }
        }
        let mut dot: f32 = lanes.iter().sum();
        for k in v.len() - rest..v.len() {
            dot += v[k] as f32 * query[k];
        }
        Some((dot / (norm * query_norm)).clamp(-1.0, 1.0))
    }
}

/// One shop's passages with an embedding (and a search text) at one knowledge-base version.
#[derive(Debug, Default)]
pub struct ShopVectors {
    version: i64,
    groups: Vec<Group>,
    index: HashMap<Uuid, (usize, usize)>,
}

impl ShopVectors {
    pub fn new(version: i64) -> Self {
        ShopVectors {
            version,
            ..Default::default()
        }
    }

    pub fn version(&self) -> i64 {
        self.version
    }

    /// Adds a passage's embedding (a repeated id keeps its first).
    pub fn push(&mut self, id: Uuid, embedding: &[f32]) {
        if embedding.is_empty() || self.index.contains_key(&id) {
            return;
        }
        let g = match self
            .groups
            .iter()
            .position(|g| g.dimensions == embedding.len())
        {
            Some(g) => g,
            None => {
                self.groups.push(Group {
                    dimensions: embedding.len(),
                    ..Default::default()
                });
                self.groups.len() - 1
            }
        };
        self.index.insert(id, (g, self.groups[g].ids.len()));
        self.groups[g].push(id, embedding);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.index.len()
    }

    /// Memory held, roughly (the id index included).
    pub fn bytes(&self) -> usize {
        self.groups.iter().map(Group::bytes).sum::<usize>() + self.index.len() * 40
    }

    /// Cosine similarity of the passage `id` with the query; `None` when the passage has no
    /// embedding of the query's length.
    pub fn similarity(&self, id: &Uuid, query: &[f32]) -> Option<f32> {
        let (g, i) = *self.index.get(id)?;
        let group = &self.groups[g];
        (group.dimensions == query.len())
            .then(|| group.cosine(i, query, norm(query)))
            .flatten()
    }

    /// The `n` passages nearest to the query by sign bits, with their cosine similarity, best
    /// first (ties by id). Only embeddings of the query's length take part.
    pub fn nearest(&self, query: &[f32], n: usize) -> Vec<(Uuid, f32)> {
        let Some(group) = self.groups.iter().find(|g| g.dimensions == query.len()) else {
            return Vec::new();
        };
        if n == 0 {
            return Vec::new();
        }
        let words = group.words();
        let signs = sign_bits(query);
        let mut distances: Vec<(u32, u32)> = group
            .signs
            .chunks_exact(words)
            .enumerate()
            .map(|(i, v)| {
                let d: u32 = v
                    .iter()
                    .zip(&signs)
                    .map(|(a, b)| (a ^ b).count_ones())
                    .sum();
                (d, i as u32)
            })
            .collect();
        if distances.len() > n {
            distances.select_nth_unstable(n - 1);
            distances.truncate(n);
        }
        let query_norm = norm(query);
        let mut near: Vec<(Uuid, f32)> = distances
            .iter()
            .filter_map(|&(_, i)| {
                let i = i as usize;
                group
                    .cosine(i, query, query_norm)
                    .map(|s| (group.ids[i], s))
            })
            .collect();
        near.truncate(n);
        near.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        near
    }
}

/// One bit per dimension, set when the value is > 0 (as V10's `embedding_signs`), 64 to a word.
fn sign_bits(v: &[f32]) -> Vec<u64> {
    let mut words = vec![0u64; v.len().div_ceil(64)];
    for (i, x) in v.iter().enumerate() {
        if *x > 0.0 {
            words[i / 64] |= 1 << (i % 64);
        }
    }
    words
}

fn norm(v: &[f32]) -> f32 {
    v.iter()
        .map(|x| (*x as f64) * (*x as f64))
        .sum::<f64>()
        .sqrt() as f32
}

/// What a shop's slot holds.
#[derive(Debug, Clone)]
pub enum Cached {
    Vectors(Arc<ShopVectors>),
    /// The shop's set at this version would not fit in the budget on its own.
    TooBig {
        version: i64,
    },
}

impl Cached {
    fn version(&self) -> i64 {
        match self {
            Cached::Vectors(v) => v.version,
            Cached::TooBig { version } => *version,
        }
    }

    fn bytes(&self) -> usize {
        match self {
            Cached::Vectors(v) => v.bytes(),
            Cached::TooBig { .. } => 0,
        }
    }
}

#[derive(Debug)]
struct Slot {
    cached: Option<Cached>,
    last_used: u64,
    /// Held while the shop's set is loaded, so concurrent searches load it once.
    loading: Arc<tokio::sync::Mutex<()>>,
}

/// Every shop's set, within a budget of bytes.
#[derive(Debug)]
pub struct PassageVectors {
    budget: usize,
    slots: Mutex<HashMap<TenantId, Slot>>,
    clock: AtomicU64,
    loads: AtomicU64,
}

impl PassageVectors {
    /// `budget` bytes for all shops; 0 keeps nothing (every search goes to SQL).
    pub fn new(budget: usize) -> Self {
        PassageVectors {
            budget,
            slots: Mutex::default(),
            clock: AtomicU64::new(0),
            loads: AtomicU64::new(0),
        }
    }

    pub fn budget(&self) -> usize {
        self.budget
    }

    /// The shop's set if it is held at `version`.
    pub fn get(&self, tenant: TenantId, version: i64) -> Option<Cached> {
        let tick = self.clock.fetch_add(1, Ordering::Relaxed);
        let mut slots = self.slots.lock().unwrap();
        let slot = slots.get_mut(&tenant)?;
        let cached = slot.cached.as_ref().filter(|c| c.version() == version)?;
        slot.last_used = tick;
        Some(cached.clone())
    }

    /// The lock a loader of this shop holds (see [`Self::get`] again once it is held).
    pub fn load_lock(&self, tenant: TenantId) -> Arc<tokio::sync::Mutex<()>> {
        let mut slots = self.slots.lock().unwrap();
        slots
            .entry(tenant)
            .or_insert_with(|| Slot {
                cached: None,
                last_used: 0,
                loading: Arc::default(),
            })
            .loading
            .clone()
    }

    /// Keeps a freshly loaded set (or the note that it is too big), evicting the least
    /// recently used shops until everything fits.
    pub fn put(&self, tenant: TenantId, cached: Cached) -> Cached {
        self.loads.fetch_add(1, Ordering::Relaxed);
        let cached = if cached.bytes() > self.budget {
            Cached::TooBig {
                version: cached.version(),
            }
        } else {
            cached
        };
        let tick = self.clock.fetch_add(1, Ordering::Relaxed);
        let mut slots = self.slots.lock().unwrap();
        let slot = slots.entry(tenant).or_insert_with(|| Slot {
            cached: None,
            last_used: 0,
            loading: Arc::default(),
        });
        // A slower load of an older version does not replace a newer one.
        if slot.cached.as_ref().map(Cached::version) > Some(cached.version()) {
            return cached;
        }
        slot.cached = Some(cached.clone());
        slot.last_used = tick;
        let mut used: usize = slots
            .values()
            .filter_map(|s| s.cached.as_ref())
            .map(Cached::bytes)
            .sum();
        while used > self.budget {
            let Some((victim, bytes)) = slots
                .iter()
                .filter(|(t, s)| **t != tenant && s.cached.as_ref().is_some_and(|c| c.bytes() > 0))
                .min_by_key(|(_, s)| s.last_used)
                .map(|(t, s)| (*t, s.cached.as_ref().map_or(0, Cached::bytes)))
            else {
                break;
            };
            if let Some(s) = slots.get_mut(&victim) {
                s.cached = None;
            }
            used -= bytes;
        }
        // Slots of shops with nothing held and nobody loading go, so the map stays small.
        slots.retain(|_, s| s.cached.is_some() || Arc::strong_count(&s.loading) > 1);
        cached
    }

    /// Bytes held for all shops.
    pub fn bytes(&self) -> usize {
        self.slots
            .lock()
            .unwrap()
            .values()
            .filter_map(|s| s.cached.as_ref())
            .map(Cached::bytes)
            .sum()
    }

    /// Sets loaded (or found too big) so far.
    pub fn loads(&self) -> u64 {
        self.loads.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pseudo_random(seed: u64, dimensions: usize) -> Vec<f32> {
        let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        (0..dimensions)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state % 20_001) as f32 / 10_000.0 - 1.0
            })
            .collect()
    }

    fn exact(a: &[f32], b: &[f32]) -> f32 {
        crate::search::postgres::cosine(a, b).unwrap()
    }

    #[test]
    fn quantized_cosine_is_within_a_hundredth_of_the_exact_one() {
        let mut shop = ShopVectors::new(1);
        let vectors: Vec<(Uuid, Vec<f32>)> = (0..200)
            .map(|i| (Uuid::from_u128(i + 1), pseudo_random(i as u64, 1536)))
            .collect();
        for (id, v) in &vectors {
            shop.push(*id, v);
        }
        let mut worst = 0f32;
        for q in 0..20u64 {
            // Queries near a stored vector as well as unrelated ones.
            let mut query = pseudo_random(1000 + q, 1536);
            if q % 2 == 0 {
                for (x, y) in query.iter_mut().zip(&vectors[q as usize].1) {
                    *x = 0.3 * *x + *y;
                }
            }
            for (id, v) in &vectors {
                let d = (shop.similarity(id, &query).unwrap() - exact(v, &query)).abs();
                worst = worst.max(d);
            }
        }
        assert!(worst < 0.01, "worst error {worst}");
        let (id, v) = &vectors[7];
        assert!((shop.similarity(id, v).unwrap() - 1.0).abs() < 1e-4);
    }

    #[test]
    fn nearest_finds_the_passage_the_query_is_about_first() {
        let mut shop = ShopVectors::new(1);
        for i in 0..5000u64 {
            shop.push(Uuid::from_u128(i as u128 + 1), &pseudo_random(i, 1536));
        }
        let target = pseudo_random(4242, 1536);
        let query: Vec<f32> = target
            .iter()
            .zip(pseudo_random(99_999, 1536))
            .map(|(t, n)| t + 0.5 * n)
            .collect();
        let near = shop.nearest(&query, RERANKED);
        assert_eq!(near.len(), RERANKED);
        assert_eq!(near[0].0, Uuid::from_u128(4243));
        assert!(near.windows(2).all(|w| w[0].1 >= w[1].1));
        // Another length (another embedding model) takes no part.
        assert!(shop.nearest(&query[..768], 10).is_empty());
        assert_eq!(shop.similarity(&Uuid::from_u128(4243), &query[..768]), None);
    }

    #[test]
    fn two_lengths_are_kept_apart_and_zero_vectors_never_match() {
        let mut shop = ShopVectors::new(3);
        shop.push(Uuid::from_u128(1), &[1.0, 0.0, 0.0]);
        shop.push(Uuid::from_u128(2), &[0.0, 0.0, 0.0]);
        shop.push(Uuid::from_u128(3), &[1.0, 1.0]);
        shop.push(Uuid::from_u128(1), &[0.0, 1.0, 0.0]);
        assert_eq!(shop.len(), 3);
        let near = shop.nearest(&[1.0, 0.1, 0.0], 10);
        assert_eq!(near.len(), 1, "{near:?}");
        assert_eq!(near[0].0, Uuid::from_u128(1));
        assert!(shop.similarity(&Uuid::from_u128(3), &[1.0, 1.0]).unwrap() > 0.99);
        assert_eq!(shop.similarity(&Uuid::from_u128(2), &[1.0, 0.0, 0.0]), None);
    }

    fn shop_of(version: i64, passages: u128) -> Cached {
        let mut s = ShopVectors::new(version);
        for i in 0..passages {
            s.push(Uuid::from_u128(i + 1), &pseudo_random(i as u64, 64));
        }
        Cached::Vectors(Arc::new(s))
    }

    #[test]
    fn a_set_is_found_only_at_its_version_and_the_budget_evicts_the_least_recently_used() {
        let one = shop_of(1, 100).bytes();
        let cache = PassageVectors::new(one * 2 + one / 2);
        let (a, b, c) = (TenantId::new(), TenantId::new(), TenantId::new());
        cache.put(a, shop_of(10, 100));
        cache.put(b, shop_of(20, 100));
        assert!(cache.get(a, 10).is_some());
        assert!(cache.get(a, 11).is_none(), "another version is another set");
        // a was used after b: b goes when c comes.
        cache.put(c, shop_of(30, 100));
        assert!(cache.get(b, 20).is_none());
        assert!(cache.get(a, 10).is_some() && cache.get(c, 30).is_some());
        assert!(cache.bytes() <= cache.budget());
        // An older load arriving late does not replace a newer version.
        cache.put(a, shop_of(12, 100));
        cache.put(a, shop_of(11, 100));
        assert!(cache.get(a, 12).is_some());
        assert!(cache.get(a, 11).is_none());
    }

    #[test]
    fn a_shop_bigger_than_the_budget_is_noted_and_holds_nothing() {
        let cache = PassageVectors::new(1000);
        let t = TenantId::new();
        assert!(matches!(
            cache.put(t, shop_of(5, 100)),
            Cached::TooBig { version: 5 }
        ));
        assert!(matches!(
            cache.get(t, 5),
            Some(Cached::TooBig { version: 5 })
        ));
        assert_eq!(cache.bytes(), 0);
        assert!(cache.get(t, 6).is_none());
    }
}
