// Package concurrency sequences a replica's requests against the locks of
// other transactions: the lock table, its wait queues, and the txn wait
// queue where waiters push lock holders and deadlocks are broken. It is
// CockroachDB's concurrency manager (pkg/kv/kvserver/concurrency:
// concurrency_manager.go, lock_table.go, lock_table_waiter.go; and
// pkg/kv/kvserver/txnwait/queue.go; tech note life_of_a_deadlock.md),
// simplified. It does no I/O of its own: transaction records and intents
// are reached through the Pusher interface, time through Clock, and every
// wait happens on the calling request's goroutine.
//
// # Protocol
//
// A request calls SequenceReq. The manager latches the request's spans
// (if configured with a spanlatch.Manager) and scans the lock table. If no
// lock there makes it wait, SequenceReq returns with latches held and the
// request evaluates. If one does, the request joins that lock's queue,
// drops its latches (the holder needs them to resolve its intent) and
// waits; when the lock table says it is done waiting, it latches and
// scans again. Evaluation that runs into an intent the table did not know
// (a kv.LockConflictError: an intent written before this replica held the
// lease) hands it to HandleLockConflictError, which adds the lock and
// waits the same way. A request that wrote an intent reports it with
// OnLockAcquired; resolution of intents (commit, abort, push to a higher
// timestamp) is reported with OnLockUpdated, and changes to transaction
// records with OnTxnUpdated. FinishReq ends the request.
//
// # Lock table
//
// Per key: the holder's TxnMeta (ID, epoch, write timestamp, priority) and
// a FIFO queue of waiting requests. Conflicts follow MVCC: a write waits
// for any other transaction's lock; a read at T waits only for a lock at or
// below T (an intent above T is invisible to it). A request never waits for
// its own transaction's lock. When a lock is released, waiting readers go,
// and the first writer becomes the claimant: it goes too, but keeps its
// place at the head of the queue, and the writers behind it wait on its
// transaction until it writes its intent (and holds the lock) or finishes
// (and the next writer claims). Writers are thus served in arrival order,
// and "release" wakes only the request that can make progress.
//
// Simplified from CockroachDB: one lock strength (exclusive), held as an
// intent (replicated) or by a locking read (unreplicated: SELECT FOR
// UPDATE, the read of an UPDATE; writers and locking reads wait for it,
// plain reads ignore it, as PostgreSQL's do); no shared locks; no bound on the
// number of locks tracked (CockroachDB forgets uncontended locks beyond a
// budget, since evaluation rediscovers them); a linear scan of each queue.
//
// # Pushing and the txn wait queue
//
// The first request waiting on a lock (the distinguished waiter) pushes
// the holder's transaction: a writer asks for an abort, a reader for the
// holder's write timestamp to move above its read. The push succeeds at
// once if the holder's record is final, its heartbeat is older than the
// liveness threshold, or the pusher's priority is higher (the record,
// behind Pusher.PushTxn, has the last word and may refuse); the waiter
// then resolves the intent (through the Pusher) and updates the table. Other
// waiters on the same lock push only if they would succeed at once (a high
// priority must not wait behind a low one); otherwise they wait in line,
// so that a finished holder is resolved once rather than by every waiter.
//
// A push that cannot succeed waits in the txn wait queue, as an edge
// pusher → pushee of the wait-for graph, until the pushee's record changes,
// the pusher's own transaction is aborted, the lock table state changes, or
// the recheck interval passes (heartbeats may expire meanwhile). Every
// waiter enters the queue, distinguished or not: a deadlock can run
// through any of them.
//
// # Deadlocks
//
// A new edge that closes a cycle is a deadlock, found in one depth-first
// walk of the queue's edges from the pushee. One transaction of the cycle
// is aborted (a forced push): the lowest priority, ties broken by the
// lowest ID, so every member would choose the same victim. (Since a higher priority pushes
// through, a cycle forms only among equal priorities, unless a priority
// changed while waiting; the tie-break then decides.) Its waiting requests
// fail with TxnAbortedError, and the others find its record ABORTED and
// resolve its intents.
//
// CockroachDB keeps a txn wait queue per range, on the leaseholder of the
// pushee's record, and finds cycles that span ranges by having pushers
// query their pushee's dependencies repeatedly. Here the managers of one
// store share one queue (Config.WaitQueue): a cycle through any of the
// store's ranges is found when its last edge registers, before the
// waiters sleep. A cycle through other nodes is found through the edges
// published at the waiters' records (Config.WaitGraph, wait_graph.go): a
// wait that lasts DeadlockProbeDelay publishes its edge and follows the
// published edges from its pushee; the last edge of a cycle to be
// published finds it. Meridian's replicas (kvserver,
// replica_concurrency.go) also configure PushWins with the records'
// wound-wait order (priority, then age) and WoundAfter: a waiter that has
// waited that long for a live holder it comes before aborts it, so every
// wait is bounded even if a walk misses its cycle (a lease moved, a
// record unreachable). Until then transactions of equal priority queue: a
// holder usually finishes in a few milliseconds, and an abort costs its
// whole transaction.
package concurrency
