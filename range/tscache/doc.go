// Package tscache is the leaseholder's timestamp cache: for every key span
// it remembers the highest timestamp at which the span was read, and by
// which transaction. A write at or below that timestamp would rewrite
// history under a read that already happened, so the replica pushes the
// write's timestamp above it (DESIGN.md §5). Only the leaseholder keeps the
// cache; it lives in memory and is lost with the lease.
//
// The design follows CockroachDB's tscache (pkg/kv/kvserver/tscache,
// cache.go and interval_skl.go), simplified:
//
//   - Reads are recorded as non-overlapping intervals [start, end), each
//     carrying a (timestamp, txn ID) value, in a B-tree ordered by start key
//     (github.com/google/btree). Adding a read splits the intervals it
//     partly covers and raises the value of the covered parts; adjacent
//     intervals with equal values are merged. CockroachDB uses a lock-free,
//     arena-allocated skiplist of nodes with gap values; one mutex around a
//     B-tree is simpler and enough until profiles say otherwise.
//   - Values combine by maximum. When two different transactions read the
//     same span at the same timestamp, the span's value keeps the timestamp
//     but no transaction: the txn ID is kept only so that a transaction's own
//     reads never push its own writes, and a span read by two transactions
//     at that timestamp must push both.
//   - A low-water mark stands for every read the cache does not remember:
//     every span is treated as read at least at it, by no transaction. The
//     replica sets it to the start of its lease when it acquires one, since
//     the previous leaseholder may have served reads up to there.
//   - Memory is bounded (Options.MaxBytes). When it is exceeded, the cache
//     forgets the intervals with the lowest timestamps and raises the
//     low-water mark to the highest timestamp it forgot, so forgetting is
//     always conservative: a later write is pushed at least as far as it
//     would have been, never less. CockroachDB rotates fixed-size pages
//     instead and raises the floor to the evicted page's maximum; evicting
//     by timestamp raises the low-water mark by as little as possible.
//     Eviction brings the size down to three quarters of the bound, so its
//     O(n log n) cost is paid once per Ω(n) additions.
//
// The leaseholder uses it like this (sketch):
//
//	// after serving a read of span at readTS (txnID zero if non-transactional):
//	c.Add(span.Key, span.EndKey, readTS, txnID)
//	// before evaluating a write of span at writeTS by txn:
//	if maxTS, by := c.GetMax(span.Key, span.EndKey); by != txn.ID && writeTS.LessEq(maxTS) {
//		writeTS = maxTS.Next() // the txn must refresh its reads or restart to commit there
//	}
//	// on acquiring a lease:
//	c.SetLowWater(lease.Start)
//
// CockroachDB also tracks writes in a second cache (for replays of
// transactional writes); Meridian's transaction records and abort spans
// will cover that, so this cache holds reads only.
package tscache
