// Package txn is the client side of transactions (DESIGN.md §5): DB, whose
// Txn runs a function in a serializable transaction and retries it when the
// transaction must restart, and Txn, with Get, Scan, Put, CPut, Del, Inc,
// Commit and Rollback.
//
// # The coordinator
//
// A Txn's batches go down a stack of interceptors, each behind the one
// lockedSender interface, each tested alone against a mock below it
// (CockroachDB's TxnCoordSender, tech note txn_coord_sender.md):
//
//	heartbeater       creates the record with the first write (a HeartbeatTxn
//	                  at the anchor key, the first key written, in the same
//	                  batch), then heartbeats it from a stopper task; learns
//	                  there that the txn was aborted (or pushed).
//	seqNumAllocator   numbers the writes: the header carries the last
//	                  sequence, each write carries its own.
//	pipeliner         sends batches of reads and point writes with
//	                  async_consensus (answered once proposed) and keeps
//	                  their writes in flight; proves an in-flight write with
//	                  a QueryIntent ahead of any request that touches its
//	                  key, and all of them at commit.
//	committer         tracks the lock spans (every span written) and fills
//	                  EndTxn with them and the anchor; elides EndTxn for a
//	                  txn that wrote nothing. Parallel commits: a commit's
//	                  EndTxn lists the in-flight writes (the proofs and the
//	                  batch's writes), the range stages the record
//	                  (STAGING) while the senders send the writes at once;
//	                  the client is answered when all are durable at or
//	                  below the staged timestamp, and the record is made
//	                  COMMITTED in the background.
//	spanRefresher     tracks the read spans; when the write timestamp was
//	                  pushed above the read timestamp (timestamp cache,
//	                  write-too-old, a push) or a read was uncertain, it
//	                  refreshes them to the new timestamp and moves the
//	                  read timestamp there, or, if a refresh fails, makes
//	                  the txn restart.
//	deadline          refuses a commit at or above the txn's deadline
//	                  (Txn.UpdateDeadline: the expiry of a descriptor
//	                  lease SQL used); at the bottom, it sees the timestamp
//	                  every commit attempt is sent at.
//
// The order matters: the heartbeater must see the first write before
// anything else so the anchor is set before intents name it; the committer
// sits above the refresher so that an EndTxn refused for a pushed
// timestamp is refreshed and resent without being rebuilt. Conflicts with
// other transactions' locks are waited for at the ranges (their lock
// tables, range/concurrency), not here.
//
// # Buffered writes and one-phase commit
//
// A transaction may hold back its blind writes (Txn.BufferWrites; SQL's
// transactions do): they go with the first later batch that reads one of
// their keys or writes otherwise, or with the commit, up to
// maxHeldBytes at a time. Reads of other keys go
// without them, so a transaction that reads between its writes still
// sends them all with its commit. A transaction whose first
// writes go with its commit sends one batch — HeartbeatTxn, the writes,
// EndTxn — and starts no heartbeat loop. If that batch lies in one range,
// the range commits it in one Raft command and writes no record (kvserver
// isOnePhaseCommit): nothing is left but the committed values. Split
// over ranges it runs as any first write: the record is created with the
// first part, and the EndTxn goes last. A read-only transaction sends no
// EndTxn at all (the committer answers it).
//
// # Recovery
//
// A STAGING record whose coordinator went away (its heartbeat expired) is
// recovered by whoever pushes it (the ranges' concurrency managers): a
// QueryIntent on each in-flight write, which also keeps a missing one from
// ever landing at or below the staged timestamp, then RecoverTxn commits
// or aborts it. A coordinator whose rollback meets its own STAGING record
// (its commit's answer was lost) recovers it the same way (recover.go).
// Options.DisablePipelining and Options.DisableParallelCommits turn the
// two off.
package txn
