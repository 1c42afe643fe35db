package kvserver

import "sync"

// hotLocks picks the keys whose resolved lock records are left as markers
// instead of deleted (kv.LockUpdate.KeepMarker, and kv's isLockMarker for
// why): the keys this leaseholder resolves again soon after, hot rows.
// Each transaction that writes a hot row writes its lock record and
// resolves it; deleted each time, the deletions piled up in the memtable
// and every read of the row stepped over them: 20% of the node's CPU in
// pgbench TPC-B with 4 clients (one branch row, ten tellers; 2-core VM,
// 2026-12-06). A cold key's record is still deleted, so markers stay about
// one per hot key; none needs cleaning up (the next lock of the key
// overwrites it).
//
// "Soon" is within the last two generations of hotLocksGeneration keys
// resolved. The choice is the leaseholder's, made at evaluation and
// replicated as the command's writes: replicas need not agree on it.
type hotLocks struct {
	mu        sync.Mutex
	cur, prev map[string]struct{}
}

// hotLocksGeneration is how many distinct keys a generation remembers
// (TPC-B resolves four per transaction, one of them the branch row).
const hotLocksGeneration = 1024

// keep records a resolution of key and reports whether key was resolved
// recently before.
func (h *hotLocks) keep(key []byte) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.cur[string(key)]; ok {
		return true
	}
	_, hot := h.prev[string(key)]
	if h.cur == nil || len(h.cur) >= hotLocksGeneration {
		h.prev, h.cur = h.cur, make(map[string]struct{}, hotLocksGeneration)
	}
	h.cur[string(key)] = struct{}{}
	return hot
}
