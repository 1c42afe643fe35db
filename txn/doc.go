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
//	                  sequence, each write of the batch takes the next.
//	committer         tracks the lock spans (every span written) and fills
//	                  EndTxn with them and the anchor; elides EndTxn for a
//	                  txn that wrote nothing.
//	spanRefresher     tracks the read spans; when the write timestamp was
//	                  pushed above the read timestamp (timestamp cache,
//	                  write-too-old, a push) or a read was uncertain, it
//	                  refreshes them to the new timestamp and moves the
//	                  read timestamp there, or, if a refresh fails, makes
//	                  the txn restart.
//	conflictRetrier   backs off and resends a batch that ran into a live,
//	                  higher-priority txn's intent (the server pushed and
//	                  lost): the stand-in for the server-side lock wait
//	                  queues the concurrency branch brings.
//	deadline          refuses a commit at or above the txn's deadline
//	                  (Txn.UpdateDeadline: the expiry of a descriptor
//	                  lease SQL used); at the bottom, it sees the timestamp
//	                  every commit attempt is sent at.
//
// The order matters: the heartbeater must see the first write before
// anything else so the anchor is set before intents name it; the committer
// sits above the refresher so that an EndTxn refused for a pushed
// timestamp is refreshed and resent without being rebuilt; the conflict
// retrier is at the bottom so that a retried batch is exactly the batch
// that failed (same sequence numbers, same timestamps).
//
// # Buffered writes and one-phase commit
//
// A transaction may hold back its blind writes (Txn.BufferWrites; SQL's
// transactions do): they go with its next read or its commit, in that
// batch, up to maxBufferedWrites at a time. A transaction whose first
// writes go with its commit sends one batch — HeartbeatTxn, the writes,
// EndTxn — and starts no heartbeat loop. If that batch lies in one range,
// the range commits it in one Raft command and writes no record (kvserver
// isOnePhaseCommit): nothing is left but the committed values. Split
// over ranges it runs as any first write: the record is created with the
// first part, and the EndTxn goes last. A read-only transaction sends no
// EndTxn at all (the committer answers it).
//
// # Not yet (v2)
//
// Write pipelining (writes proposed without waiting, proven with
// QueryIntent before reads and commit) would sit between the
// seqNumAllocator and the committer, tracking in-flight writes. Parallel
// commits (STAGING records, implicit commit, recovery) belong in the
// committer; the record status STAGING is already on the wire.
package txn
