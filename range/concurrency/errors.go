package concurrency

import (
	"fmt"

	"github.com/meridiandb/meridian/kv/kvpb"
)

// TxnAbortedError is returned to a request whose own transaction was
// aborted while it waited: by a pusher of higher priority, by deadlock
// detection, or by its coordinator. The transaction must restart.
type TxnAbortedError struct {
	Txn    kvpb.TxnMeta
	Reason string
}

func (e *TxnAbortedError) Error() string {
	return fmt.Sprintf("txn %s aborted while waiting: %s", e.Txn.ID.Short(), e.Reason)
}
