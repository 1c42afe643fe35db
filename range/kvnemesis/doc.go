// Package kvnemesis holds TestKVNemesis (after CockroachDB's kvnemesis):
// random KV traffic — gets, puts, scans, deletes and conditional puts,
// alone and in transactions — runs through a DistSender and the
// transaction coordinator on an in-process cluster while a nemesis splits
// and merges ranges, transfers leases and moves replicas. The history is
// then validated against the MVCC versions left in the stores: every
// version is a write the clients made and that committed (or may have),
// every acknowledged write is there, a transaction's writes share one
// timestamp (its commit timestamp), every read is what the versions say
// at the reader's timestamp, and no read misses a write acknowledged
// before it began.
//
// The package has no code outside its tests: it exercises range, txn and
// the test cluster together, above the layers it tests.
package kvnemesis
