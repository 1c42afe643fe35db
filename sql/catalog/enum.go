package catalog

import (
	"context"
	"encoding/json"
	"sort"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/errors"
	"github.com/lib/pq/oid"
	"github.com/meridiandb/meridian/kv/encoding"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// User-defined types (CREATE TYPE … AS ENUM). A type is named in a schema
// as a relation is, but in a namespace of its own, and described by a
// TypeDescriptor under an ID from the relations' counter (so that a
// type's OID never equals a relation's):
//
//	/0x04 't' <database ID> <schema> <name> → the type's ID
//	/0x04 'e' <ID>                         → the descriptor, as JSON
//
// A column of an enum type carries a copy of the type's members (Enum),
// so that a table descriptor alone decodes its rows; a change of the
// type rewrites the descriptors of the tables that use it, which moves
// them through the lease protocol as any other schema change.
var (
	typeNamePrefix = []byte{0x04, 't'}
	typeDescPrefix = []byte{0x04, 'e'}
)

// TypeOIDBase offsets type IDs into pg_type OIDs: the same offset as
// relations (vtable.RelOIDBase), above PostgreSQL's and CockroachDB's
// predefined OIDs, which the parser's types package takes for a
// user-defined type. Array types sit ArrayOIDOffset above.
const (
	TypeOIDBase    = 100000
	ArrayOIDOffset = 1 << 23
)

// TypeDescriptor describes an enum type.
type TypeDescriptor struct {
	ID       uint32 `json:"id"`
	Name     string `json:"name"`
	ParentID uint32 `json:"parent_id"`
	Schema   string `json:"schema"`
	// Enum are its members in declaration order.
	Enum EnumMembers `json:"enum"`
}

// EnumMembers are an enum's labels in declaration order with their
// physical representations: byte strings that sort as the labels are
// declared, so that keys and comparisons order by declaration. A label
// added between two others gets a representation between theirs
// (between); a renamed label keeps its representation, so stored rows
// stay valid.
type EnumMembers struct {
	Labels []string `json:"labels"`
	Reps   [][]byte `json:"reps"`
}

// EnumRef is what a column of an enum type records of it.
type EnumRef struct {
	TypeID  uint32      `json:"type_id"`
	Schema  string      `json:"schema"`
	Name    string      `json:"name"`
	Members EnumMembers `json:"members"`
}

// TypeOID is the pg_type OID of type id, ArrayTypeOID its array type's.
func TypeOID(id uint32) oid.Oid      { return oid.Oid(TypeOIDBase + id) }
func ArrayTypeOID(id uint32) oid.Oid { return oid.Oid(TypeOIDBase + ArrayOIDOffset + id) }

// TypeIDOfOID is the type ID of an enum type's OID.
func TypeIDOfOID(o oid.Oid) uint32 { return uint32(o) - TypeOIDBase }

// Ref is what a column of type d records.
func (d *TypeDescriptor) Ref() *EnumRef {
	return &EnumRef{TypeID: d.ID, Schema: d.Schema, Name: d.Name, Members: d.Enum}
}

// T is d as the parser's type.
func (d *TypeDescriptor) T() *types.T { return d.Ref().T() }

// T is the enum type r names.
func (r *EnumRef) T() *types.T {
	t := types.MakeEnum(TypeOID(r.TypeID), ArrayTypeOID(r.TypeID))
	n := len(r.Members.Labels)
	t.TypeMeta = types.UserDefinedTypeMetadata{
		Name: &types.UserDefinedTypeName{Schema: r.Schema, Name: r.Name},
		EnumData: &types.EnumMetadata{
			LogicalRepresentations:  append([]string(nil), r.Members.Labels...),
			PhysicalRepresentations: append([][]byte(nil), r.Members.Reps...),
			IsMemberReadOnly:        make([]bool, n),
		},
	}
	return t
}

// RefOf is the EnumRef of an enum type t (made by EnumRef.T).
func RefOf(t *types.T) *EnumRef {
	r := &EnumRef{TypeID: TypeIDOfOID(t.Oid())}
	if t.TypeMeta.Name != nil {
		r.Schema, r.Name = t.TypeMeta.Name.Schema, t.TypeMeta.Name.Name
	}
	if e := t.TypeMeta.EnumData; e != nil {
		r.Members = EnumMembers{Labels: append([]string(nil), e.LogicalRepresentations...), Reps: append([][]byte(nil), e.PhysicalRepresentations...)}
	}
	return r
}

// NewEnumMembers gives labels evenly spaced representations.
func NewEnumMembers(labels []string) EnumMembers {
	m := EnumMembers{Labels: append([]string(nil), labels...)}
	n := len(labels)
	for i := range labels {
		if n < 255 {
			m.Reps = append(m.Reps, []byte{byte((i + 1) * 256 / (n + 1))})
		} else {
			v := (i + 1) * 65536 / (n + 1)
			m.Reps = append(m.Reps, []byte{byte(v >> 8), byte(v)})
		}
	}
	return m
}

// Insert adds label at position i (0 first, len last).
func (m *EnumMembers) Insert(i int, label string) {
	var lo, hi []byte
	if i > 0 {
		lo = m.Reps[i-1]
	}
	if i < len(m.Reps) {
		hi = m.Reps[i]
	}
	m.Labels = append(m.Labels[:i:i], append([]string{label}, m.Labels[i:]...)...)
	m.Reps = append(m.Reps[:i:i], append([][]byte{between(lo, hi)}, m.Reps[i:]...)...)
}

// Index is the position of label, or -1.
func (m *EnumMembers) Index(label string) int {
	for i, l := range m.Labels {
		if l == label {
			return i
		}
	}
	return -1
}

// between is a byte string strictly between a and b in byte order (nil
// b: no upper bound), with a < b; it never ends in a zero byte, so that
// there is always room below it.
func between(a, b []byte) []byte {
	var out []byte
	for i := 0; ; i++ {
		lo, hi := 0, 256
		if i < len(a) {
			lo = int(a[i])
		}
		if b != nil && i < len(b) {
			hi = int(b[i])
		}
		if hi-lo > 1 {
			return append(out, byte((lo+hi)/2))
		}
		out = append(out, byte(lo))
		if lo < hi {
			// out's prefix is now below b's: b bounds no further byte.
			b = nil
		}
	}
}

func typeNameKey(k RelKey) []byte {
	b := encoding.EncodeUvarintAscending(append([]byte(nil), typeNamePrefix...), uint64(k.DB))
	b = encoding.EncodeStringAscending(b, k.Schema)
	return encoding.EncodeStringAscending(b, k.Name)
}

func typeDescKey(id uint32) []byte {
	return encoding.EncodeUvarintAscending(append([]byte(nil), typeDescPrefix...), uint64(id))
}

// Key is d's name entry's key.
func (d *TypeDescriptor) Key() RelKey { return RelKey{DB: d.ParentID, Schema: d.Schema, Name: d.Name} }

// GetType reads the type named k; nil if there is none.
func GetType(ctx context.Context, txn Txn, k RelKey) (*TypeDescriptor, error) {
	v, err := txn.Get(ctx, typeNameKey(k))
	if err != nil || v == nil {
		return nil, err
	}
	_, id, err := encoding.DecodeUvarintAscending(v)
	if err != nil {
		return nil, errors.Wrapf(err, "corrupt name entry of type %q", k.Name)
	}
	d, err := GetTypeByID(ctx, txn, uint32(id))
	if err == nil && d == nil {
		err = errors.AssertionFailedf("type %q names descriptor %d, which does not exist", k.Name, id)
	}
	return d, err
}

// GetTypeByID reads a type by ID; nil if there is none.
func GetTypeByID(ctx context.Context, txn Txn, id uint32) (*TypeDescriptor, error) {
	raw, err := txn.Get(ctx, typeDescKey(id))
	if err != nil || raw == nil {
		return nil, err
	}
	d := &TypeDescriptor{}
	if err := json.Unmarshal(raw, d); err != nil {
		return nil, errors.Wrapf(err, "corrupt type descriptor %d", id)
	}
	return d, nil
}

// CreateType stores a new type under a fresh ID; 42710 if a type of its
// name exists.
func CreateType(ctx context.Context, txn Txn, d *TypeDescriptor) error {
	if old, err := GetType(ctx, txn, d.Key()); err != nil || old != nil {
		if err == nil {
			err = pgerror.Newf("42710", "type %q already exists", d.Name)
		}
		return err
	}
	id, err := nextID(ctx, txn, descIDKey, FirstTableID, "descriptor")
	if err != nil {
		return err
	}
	d.ID = id
	if err := PutType(ctx, txn, d); err != nil {
		return err
	}
	return txn.Put(ctx, typeNameKey(d.Key()), encoding.EncodeUvarintAscending(nil, uint64(id)))
}

// PutType writes a changed type.
func PutType(ctx context.Context, txn Txn, d *TypeDescriptor) error {
	raw, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return txn.Put(ctx, typeDescKey(d.ID), raw)
}

// DropType removes a type's name entry and descriptor.
func DropType(ctx context.Context, txn Txn, d *TypeDescriptor) error {
	if err := txn.Del(ctx, typeNameKey(d.Key())); err != nil {
		return err
	}
	return txn.Del(ctx, typeDescKey(d.ID))
}

// ListTypes returns every type of database db, by schema and name.
func ListTypes(ctx context.Context, txn Txn, db uint32) ([]*TypeDescriptor, error) {
	start := encoding.EncodeUvarintAscending(append([]byte(nil), typeNamePrefix...), uint64(db))
	kvs, err := txn.Scan(ctx, start, PrefixEnd(start), 0)
	if err != nil {
		return nil, err
	}
	out := make([]*TypeDescriptor, 0, len(kvs))
	for _, kv := range kvs {
		_, id, err := encoding.DecodeUvarintAscending(kv.Value)
		if err != nil {
			return nil, errors.Wrapf(err, "corrupt type name entry at %q", kv.Key)
		}
		d, err := GetTypeByID(ctx, txn, uint32(id))
		if err != nil {
			return nil, err
		}
		if d != nil {
			out = append(out, d)
		}
	}
	return out, nil
}

// ListAllTypes returns every type of every database, by ID.
func ListAllTypes(ctx context.Context, txn Txn) ([]*TypeDescriptor, error) {
	kvs, err := txn.Scan(ctx, typeDescPrefix, PrefixEnd(typeDescPrefix), 0)
	if err != nil {
		return nil, err
	}
	out := make([]*TypeDescriptor, 0, len(kvs))
	for _, kv := range kvs {
		d := &TypeDescriptor{}
		if err := json.Unmarshal(kv.Value, d); err != nil {
			return nil, errors.Wrapf(err, "corrupt type descriptor at %q", kv.Key)
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// RenameTypeKey moves d's name entry to d's current name, old being the
// key it had.
func RenameTypeKey(ctx context.Context, txn Txn, d *TypeDescriptor, old RelKey) error {
	if err := txn.Del(ctx, typeNameKey(old)); err != nil {
		return err
	}
	if err := PutType(ctx, txn, d); err != nil {
		return err
	}
	return txn.Put(ctx, typeNameKey(d.Key()), encoding.EncodeUvarintAscending(nil, uint64(d.ID)))
}

// UsesType reports the first column of d of type id ("" if none).
func (d *TableDescriptor) UsesType(id uint32) string {
	for _, c := range d.Columns {
		if c.Enum != nil && c.Enum.TypeID == id {
			return c.Name
		}
	}
	return ""
}
