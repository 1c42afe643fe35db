package catalog

import (
	"context"
	"encoding/json"

	"github.com/cockroachdb/errors"
	"github.com/lib/pq/oid"
	"github.com/meridiandb/meridian/kv/encoding"
)

// User-defined functions (CREATE FUNCTION … LANGUAGE sql). A function
// name lives in a schema, in a namespace of its own; the record under it
// holds every overload of the name (PostgreSQL tells them apart by their
// argument types), each with an ID from the relations' counter for its
// pg_proc OID:
//
//	/0x04 'f' <database ID> <schema> <name> → FunctionDescriptor (JSON)
var functionPrefix = []byte{0x04, 'f'}

// FunctionDescriptor is a function name's overloads.
type FunctionDescriptor struct {
	ParentID  uint32             `json:"parent_id"`
	Schema    string             `json:"schema"`
	Name      string             `json:"name"`
	Overloads []FunctionOverload `json:"overloads"`
}

// FunctionOverload is one function: its parameters, result and body.
// Types are kept as SQL text, resolved when the function is called (a
// user-defined type by its name).
type FunctionOverload struct {
	ID     uint32          `json:"id"`
	Params []FunctionParam `json:"params"`
	// Returns is the result type, of each row when ReturnsSet; for
	// RETURNS TABLE, Columns are the rows' columns and Returns is
	// "record".
	Returns    string          `json:"returns"`
	ReturnsSet bool            `json:"returns_set,omitempty"`
	Columns    []FunctionParam `json:"columns,omitempty"`
	// Body is the SQL the function runs: one query.
	Body string `json:"body"`
	// Volatility is PostgreSQL's provolatile: "v", "s" or "i".
	Volatility string `json:"volatility"`
	// Strict: a call with a NULL argument is NULL, the body not run.
	Strict bool `json:"strict,omitempty"`
	// Variadic: the last parameter (of an array type) is VARIADIC, the
	// trailing arguments of a call its elements.
	Variadic bool `json:"variadic,omitempty"`
	// Owner is the owning role's ID.
	Owner uint32 `json:"owner"`
}

// FunctionParam is a parameter (or a RETURNS TABLE column).
type FunctionParam struct {
	Name string `json:"name,omitempty"`
	Type string `json:"type"`
	// Default is the default's SQL text; empty: none.
	Default string `json:"default,omitempty"`
}

// FunctionOIDBase offsets overload IDs into pg_proc OIDs, as relations'
// are into pg_class's.
const FunctionOIDBase = TypeOIDBase

// OID is the overload's pg_proc OID.
func (o *FunctionOverload) OID() oid.Oid { return oid.Oid(FunctionOIDBase + o.ID) }

// Key is d's name record's key.
func (d *FunctionDescriptor) Key() RelKey {
	return RelKey{DB: d.ParentID, Schema: d.Schema, Name: d.Name}
}

func functionKey(k RelKey) []byte {
	b := encoding.EncodeUvarintAscending(append([]byte(nil), functionPrefix...), uint64(k.DB))
	b = encoding.EncodeStringAscending(b, k.Schema)
	return encoding.EncodeStringAscending(b, k.Name)
}

// GetFunction reads the functions named k; nil if there are none.
func GetFunction(ctx context.Context, txn Txn, k RelKey) (*FunctionDescriptor, error) {
	raw, err := txn.Get(ctx, functionKey(k))
	if err != nil || raw == nil {
		return nil, err
	}
	d := &FunctionDescriptor{}
	if err := json.Unmarshal(raw, d); err != nil {
		return nil, errors.Wrapf(err, "corrupt function record %q", k.Name)
	}
	return d, nil
}

// NewFunctionID hands out an overload's ID.
func NewFunctionID(ctx context.Context, txn Txn) (uint32, error) {
	return nextID(ctx, txn, descIDKey, FirstTableID, "descriptor")
}

// PutFunction writes d, or removes its record when it has no overloads
// left.
func PutFunction(ctx context.Context, txn Txn, d *FunctionDescriptor) error {
	if len(d.Overloads) == 0 {
		return txn.Del(ctx, functionKey(d.Key()))
	}
	raw, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return txn.Put(ctx, functionKey(d.Key()), raw)
}

// ListFunctions returns the functions of database db (every database's
// if db is 0), by schema and name.
func ListFunctions(ctx context.Context, txn Txn, db uint32) ([]*FunctionDescriptor, error) {
	start := append([]byte(nil), functionPrefix...)
	if db != 0 {
		start = encoding.EncodeUvarintAscending(start, uint64(db))
	}
	kvs, err := txn.Scan(ctx, start, PrefixEnd(start), 0)
	if err != nil {
		return nil, err
	}
	out := make([]*FunctionDescriptor, 0, len(kvs))
	for _, kv := range kvs {
		d := &FunctionDescriptor{}
		if err := json.Unmarshal(kv.Value, d); err != nil {
			return nil, errors.Wrapf(err, "corrupt function record at %q", kv.Key)
		}
		out = append(out, d)
	}
	return out, nil
}

// OverloadOf is the index of the overload whose parameter types (as SQL
// text) are want; -1 if there is none.
func (d *FunctionDescriptor) OverloadOf(want []string) int {
	for i := range d.Overloads {
		ps := d.Overloads[i].Params
		if len(ps) != len(want) {
			continue
		}
		same := true
		for j, p := range ps {
			same = same && p.Type == want[j]
		}
		if same {
			return i
		}
	}
	return -1
}
