// Package mon accounts for the memory SQL holds while it runs, against a
// node-wide budget (the node's --max-sql-memory), as CockroachDB's
// pkg/util/mon does.
//
// A BytesMonitor is the budget: a limit and the bytes reserved against it,
// by every session of the node. Code that holds rows in memory (a sort's
// buffer, a hash table, a buffered result) charges an Account drawn from
// the monitor: Grow before it keeps more, Shrink when it lets go, Close
// when it is done. A Grow that would take the monitor past its limit fails
// with a *BudgetExceededError (SQLSTATE 53200) and reserves nothing, so
// the statement fails instead of the node growing until the operating
// system kills it.
//
// The sizes are estimates (see rowenc.DatumsSize): the budget bounds what
// SQL holds deliberately, not every allocation of the process.
//
// Accounts reserve from the monitor in chunks (reserveChunk) so that
// sessions charging row by row rarely contend on the monitor's mutex; a
// chunk that does not fit is narrowed to what is asked, so a small query
// still runs when the budget is nearly spent.
package mon

import (
	"context"
	"fmt"
	"sync"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// reserveChunk is how much an Account reserves from its monitor at once.
const reserveChunk = 16 << 10

// BytesMonitor is a memory budget shared by many accounts. It is safe for
// concurrent use. A nil *BytesMonitor is unlimited and tracks nothing.
type BytesMonitor struct {
	// name says in an error where the budget is set ("--max-sql-memory").
	name string
	// limit is the budget in bytes; 0 is unlimited (usage is still
	// tracked, for the metrics).
	limit int64
	mu    struct {
		sync.Mutex
		// Invariant: 0 <= used, and used <= limit when limit > 0.
		used int64
		// highWater is the largest used ever was.
		highWater int64
	}
}

// NewMonitor returns a monitor of limit bytes (0: unlimited); name is
// what errors name as the budget's setting.
func NewMonitor(name string, limit int64) *BytesMonitor {
	if limit < 0 {
		limit = 0
	}
	return &BytesMonitor{name: name, limit: limit}
}

// Limit returns the budget in bytes (0: unlimited).
func (m *BytesMonitor) Limit() int64 {
	if m == nil {
		return 0
	}
	return m.limit
}

// Used returns the bytes accounts hold reserved.
func (m *BytesMonitor) Used() int64 {
	if m == nil {
		return 0
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.mu.used
}

// HighWater returns the most bytes ever reserved at once.
func (m *BytesMonitor) HighWater() int64 {
	if m == nil {
		return 0
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.mu.highWater
}

// NewAccount returns an empty account charging m.
func (m *BytesMonitor) NewAccount() *Account { return &Account{mon: m} }

// reserve takes n more bytes of the budget, or fails taking nothing.
func (m *BytesMonitor) reserve(n, requested int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.limit > 0 && m.mu.used+n > m.limit {
		return newBudgetExceededError(m.name, requested, m.mu.used, m.limit)
	}
	m.mu.used += n
	m.mu.highWater = max(m.mu.highWater, m.mu.used)
	return nil
}

func (m *BytesMonitor) release(n int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if n > m.mu.used {
		// An account released more than it reserved: a bug, but one that
		// must not leave the budget negative (and so larger than its limit).
		n = m.mu.used
	}
	m.mu.used -= n
}

// Account is one user's share of a monitor: a statement's, or a part of
// one. It is not safe for concurrent use; its monitor is. The zero value
// and a nil *Account track nothing. Every account must be closed (Close
// is idempotent), or its bytes stay reserved.
type Account struct {
	mon *BytesMonitor
	// Invariant: 0 <= used <= reserved; reserved is what mon counts for
	// this account.
	used, reserved int64
}

// Monitor returns the monitor a charges (nil for an untracked account).
func (a *Account) Monitor() *BytesMonitor {
	if a == nil {
		return nil
	}
	return a.mon
}

// Used returns the bytes a holds.
func (a *Account) Used() int64 {
	if a == nil {
		return 0
	}
	return a.used
}

// Grow charges n more bytes to a. It fails with a *BudgetExceededError
// (SQLSTATE 53200), charging nothing, if the monitor's limit does not
// allow them.
func (a *Account) Grow(ctx context.Context, n int64) error {
	if a == nil || n <= 0 {
		return nil
	}
	if a.mon == nil {
		a.used += n
		return nil
	}
	if need := a.used + n - a.reserved; need > 0 {
		ask := (need + reserveChunk - 1) / reserveChunk * reserveChunk
		err := a.mon.reserve(ask, n)
		if err != nil && ask != need {
			// The chunk may not fit where the exact amount does.
			ask, err = need, a.mon.reserve(need, n)
		}
		if err != nil {
			return err
		}
		a.reserved += ask
	}
	a.used += n
	return nil
}

// Shrink returns n of a's bytes (at most all of them). The account keeps
// up to a chunk reserved, for its next Grow.
func (a *Account) Shrink(n int64) {
	if a == nil || n <= 0 {
		return
	}
	a.used -= min(n, a.used)
	if a.mon == nil {
		return
	}
	if spare := a.reserved - a.used; spare > reserveChunk {
		a.mon.release(spare - reserveChunk)
		a.reserved -= spare - reserveChunk
	}
}

// Clear returns all of a's bytes to the monitor; a stays usable.
func (a *Account) Clear() {
	if a == nil {
		return
	}
	if a.mon != nil && a.reserved > 0 {
		a.mon.release(a.reserved)
	}
	a.used, a.reserved = 0, 0
}

// Close returns all of a's bytes to the monitor. It may be called more
// than once, and the account reused (as after Clear).
func (a *Account) Close() { a.Clear() }

// BudgetExceededError is a Grow's failure: the monitor's limit does not
// allow the bytes requested.
type BudgetExceededError struct {
	// Budget names the setting of the limit ("--max-sql-memory").
	Budget string
	// Requested, InUse and Limit are in bytes: what the Grow asked for,
	// what the monitor had reserved, and its limit.
	Requested, InUse, Limit int64
}

func newBudgetExceededError(budget string, requested, inUse, limit int64) error {
	err := pgerror.WithCode(&BudgetExceededError{Budget: budget, Requested: requested, InUse: inUse, Limit: limit},
		pgerror.CodeOutOfMemory)
	return pgerror.WithHint(err, "the statement holds more rows in memory than this node allows for SQL: "+
		"make it hold fewer (a LIMIT, a narrower WHERE or select list), run fewer such statements at once, "+
		"or start the node with a larger "+budget)
}

func (e *BudgetExceededError) Error() string {
	return fmt.Sprintf("memory budget exceeded: %d bytes requested, %d already in use of %d (%s)",
		e.Requested, e.InUse, e.Limit, e.Budget)
}

// IsBudgetExceeded reports whether err is, or wraps, a BudgetExceededError.
func IsBudgetExceeded(err error) bool {
	var be *BudgetExceededError
	return errors.As(err, &be)
}
