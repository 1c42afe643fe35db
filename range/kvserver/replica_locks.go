package kvserver

import (
	"bytes"
	"sync"

	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/rangepb"
)

// replicaLocks are a leaseholder's unreplicated locks: the keys a
// transaction's locking reads returned (the rows an UPDATE, DELETE or
// SELECT FOR UPDATE read), once it has written something, held until the
// transaction is known to have finished. They close the window between a locking read and the write
// that follows it: another transaction that writes the key, or reads it
// with a lock, meets the lock as it would an intent, and waits for the
// holder or wounds it (wound-wait), instead of reading a value that is
// about to change and failing its refresh at commit.
//
// They live in memory on the replica that took them and may be lost (a
// lease change, a restart, the cap): they make conflicts cheaper, they
// never decide correctness, which MVCC and read refresh keep on their own.
// Plain reads ignore them, as PostgreSQL's reads ignore row locks.
type replicaLocks struct {
	mu    sync.Mutex
	byKey map[string]kv.TxnMeta
	// byTxn lists each holder's keys, so that a release does not look at
	// every lock.
	byTxn map[kv.TxnID][]string
}

// maxReplicaLocks caps the locks a replica keeps; past it, they are all
// dropped (see above: losing them is safe).
const maxReplicaLocks = 100_000

func (l *replicaLocks) acquire(keys [][]byte, txn kv.TxnMeta) {
	if len(keys) == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byKey == nil || len(l.byKey)+len(keys) > maxReplicaLocks {
		l.byKey, l.byTxn = map[string]kv.TxnMeta{}, map[kv.TxnID][]string{}
	}
	for _, k := range keys {
		if _, held := l.byKey[string(k)]; !held {
			l.byTxn[txn.ID] = append(l.byTxn[txn.ID], string(k))
		}
		l.byKey[string(k)] = txn
	}
}

// conflicts returns the locks of other transactions than txn (nil: a
// non-transactional request) on the keys ba writes or reads with a lock.
func (l *replicaLocks) conflicts(ba *rangepb.BatchRequest, txn *kv.TxnMeta) []kv.Lock {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.byKey) == 0 {
		return nil
	}
	var out []kv.Lock
	check := func(key, end []byte) {
		if end == nil {
			if h, ok := l.byKey[string(key)]; ok && (txn == nil || h.ID != txn.ID) {
				out = append(out, kv.Lock{Key: key, Txn: h})
			}
			return
		}
		for k, h := range l.byKey {
			if bytes.Compare([]byte(k), key) >= 0 && bytes.Compare([]byte(k), end) < 0 && (txn == nil || h.ID != txn.ID) {
				out = append(out, kv.Lock{Key: []byte(k), Txn: h})
			}
		}
	}
	for _, ru := range ba.Requests {
		switch req := ru.Value.(type) {
		case *rangepb.RequestUnion_Get:
			if req.Get.ForUpdate {
				check(req.Get.Key, nil)
			}
		case *rangepb.RequestUnion_Scan:
			if req.Scan.ForUpdate {
				check(req.Scan.Span.GetKey(), req.Scan.Span.GetEndKey())
			}
		case *rangepb.RequestUnion_Put:
			check(req.Put.Key, nil)
		case *rangepb.RequestUnion_ConditionalPut:
			check(req.ConditionalPut.Key, nil)
		case *rangepb.RequestUnion_Increment:
			check(req.Increment.Key, nil)
		case *rangepb.RequestUnion_Delete:
			check(req.Delete.Key, nil)
		case *rangepb.RequestUnion_DeleteRange:
			check(req.DeleteRange.Span.GetKey(), req.DeleteRange.Span.GetEndKey())
		}
	}
	return out
}

// releaseTxn drops the locks of transaction id.
func (l *replicaLocks) releaseTxn(id kv.TxnID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range l.byTxn[id] {
		if h, ok := l.byKey[k]; ok && h.ID == id {
			delete(l.byKey, k)
		}
	}
	delete(l.byTxn, id)
}

// lockedKeys lists the keys a served batch's locking reads returned.
func lockedKeys(ba *rangepb.BatchRequest, br *rangepb.BatchResponse) [][]byte {
	var keys [][]byte
	for i, ru := range ba.Requests {
		if i >= len(br.Responses) {
			break
		}
		switch req := ru.Value.(type) {
		case *rangepb.RequestUnion_Get:
			if req.Get.ForUpdate && br.Responses[i].GetGet().GetFound() {
				keys = append(keys, req.Get.Key)
			}
		case *rangepb.RequestUnion_Scan:
			if req.Scan.ForUpdate {
				for _, row := range br.Responses[i].GetScan().GetRows() {
					keys = append(keys, row.Key)
				}
			}
		}
	}
	return keys
}

// afterServed keeps the replica's locks up to date with a batch it
// served: locking reads take locks; an EndTxn, or a resolution that
// finalizes a transaction's intents, releases that transaction's.
func (r *Replica) afterServed(ba *rangepb.BatchRequest, br *rangepb.BatchResponse) {
	txn := ba.Header.GetTxn()
	// Only a transaction with a record (it has written: its anchor key is
	// set) takes locks: a lock must name a record that others can push,
	// and a push finds no record as an abandoned transaction.
	if txn != nil && txn.Meta != nil && len(txn.Meta.Key) > 0 {
		if keys := lockedKeys(ba, br); len(keys) > 0 {
			r.locks.acquire(keys, metaToKV(txn.Meta))
		}
	}
	// A resolution batch names the same transaction many times: release
	// each once. (Most batches release nothing: no map for them.)
	var released map[kv.TxnID]bool
	release := func(id kv.TxnID) {
		if released == nil {
			released = map[kv.TxnID]bool{}
		}
		if !released[id] {
			released[id] = true
			r.locks.releaseTxn(id)
		}
	}
	for _, ru := range ba.Requests {
		var meta *rangepb.TxnMeta
		var st rangepb.TransactionStatus
		switch req := ru.Value.(type) {
		case *rangepb.RequestUnion_EndTxn:
			if txn != nil {
				release(metaToKV(txn.Meta).ID)
			}
			continue
		case *rangepb.RequestUnion_ResolveIntent:
			meta, st = req.ResolveIntent.Txn, req.ResolveIntent.Status
		case *rangepb.RequestUnion_ResolveIntentRange:
			meta, st = req.ResolveIntentRange.Txn, req.ResolveIntentRange.Status
		default:
			continue
		}
		if st == rangepb.TransactionStatus_COMMITTED || st == rangepb.TransactionStatus_ABORTED {
			release(metaToKV(meta).ID)
		}
	}
}
