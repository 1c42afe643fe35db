package kv

// MVCCGetLock returns the lock record (intent) at key, or nil if the key
// has none. A transaction proving its pipelined writes, and a recovery of
// a STAGING transaction, ask it (QueryIntent).
func MVCCGetLock(r Reader, key []byte) (*LockRecord, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	lit, err := r.newPebbleIter(lockTableBounds())
	if err != nil {
		return nil, err
	}
	defer r.releasePebbleIter(lit)
	var arr [64]byte
	buf := arr[:0]
	lock, _, err := readLock(lit, key, &buf)
	return lock, err
}

// HasSequence reports whether the lock holds its transaction's write at
// seq or a later one of the same epoch (a later write to the key keeps
// the earlier in its history).
func (l *LockRecord) HasSequence(seq int32) bool {
	return l.Txn.Sequence >= seq
}
