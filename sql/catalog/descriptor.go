// Package catalog holds the schema: table, index, column and constraint
// descriptors, and their storage in the system keyspace (a namespace entry
// from name to ID, the descriptor as JSON under its ID). It reads and
// writes through the small Txn interface below; it knows nothing of
// planning or execution, and rows are encoded by sql/rowenc on top of it.
package catalog

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/kv/encoding"
	"github.com/meridiandb/meridian/sql/kvapi"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/sem"
)

// The SQL keyspace (DESIGN.md §3). System keys sit under 0x04, below every
// table; a table's keys start with its ID as an ascending uvarint, which
// for the IDs handed out here (from FirstTableID) is a byte of 0x88 or more.
var (
	systemPrefix    = []byte{0x04}
	namespacePrefix = []byte{0x04, 'n'} // + database ID + schema name + relation name → table ID
	descPrefix      = []byte{0x04, 'd'} // + table ID → descriptor
	descIDKey       = []byte{0x04, 'i'} // the last table ID handed out
)

// FirstTableID is the first ID of a user table; lower ones are kept for
// system tables. User tables' keys start at its prefix.
const FirstTableID = 100

// PrimaryIndexID is the ID of every table's primary index.
const PrimaryIndexID = 1

// Txn is what the catalog reads and writes descriptors through.
type Txn interface {
	Get(ctx context.Context, key []byte) ([]byte, error)
	Scan(ctx context.Context, start, end []byte, limit int64) ([]kvapi.KeyValue, error)
	Put(ctx context.Context, key, value []byte) error
	Del(ctx context.Context, key []byte) error
	DelMany(ctx context.Context, keys [][]byte) error
	DelRange(ctx context.Context, start, end []byte) (int64, error)
}

var _ Txn = kvapi.Txn(nil)

// TableDescriptor describes a table. It is stored as JSON under its ID;
// column types are stored as their SQL names.
type TableDescriptor struct {
	ID   uint32 `json:"id"`
	Name string `json:"name"`
	// ParentID is the database the relation is in, Schema the name of
	// its schema there (see RelKey).
	ParentID uint32             `json:"parent_id"`
	Schema   string             `json:"schema"`
	Columns  []ColumnDescriptor `json:"columns"`
	// PrimaryKey lists the ordinals (in Columns) of the primary key's
	// columns, in key order.
	PrimaryKey   []int  `json:"primary_key"`
	NextColumnID uint32 `json:"next_column_id"`
	// ViewQuery, for a view, is its defining query's SQL (Columns then
	// name and type its output); a view has no rows of its own.
	ViewQuery string `json:"view_query,omitempty"`
	// DependsOn are the relations a view's query reads (pg_depend's
	// normal dependencies): dropping one of them needs CASCADE, which
	// drops the view too. Empty for views made before it was recorded.
	DependsOn []uint32 `json:"depends_on,omitempty"`
	// DependsOnColumns are the columns of those relations the query
	// uses (pg_depend's rows for the view's rule); empty for views made
	// before they were recorded.
	DependsOnColumns []ColumnRef `json:"depends_on_columns,omitempty"`
	// MatViewQuery, for a materialized view, is its defining query's SQL.
	// Unlike a view's, its rows are stored, as a table's (keyed by a
	// hidden rowid): the query's result at creation or at the last
	// REFRESH MATERIALIZED VIEW. DependsOn lists what the query reads.
	MatViewQuery string `json:"matview_query,omitempty"`
	// Unpopulated marks a materialized view made or refreshed WITH NO
	// DATA (pg_class.relispopulated false): it has no rows, and scanning
	// it is an error until a REFRESH fills it.
	Unpopulated bool `json:"unpopulated,omitempty"`
	// Indexes are the secondary indexes.
	Indexes     []IndexDescriptor `json:"indexes,omitempty"`
	NextIndexID uint32            `json:"next_index_id,omitempty"`
	// Comment is COMMENT ON TABLE's text ("" for none).
	Comment string `json:"comment,omitempty"`
	// Sequence is set for a sequence (see sequence.go).
	Sequence *SequenceOptions `json:"sequence,omitempty"`
	// Checks are the CHECK constraints, ForeignKeys the foreign keys this
	// table's rows hold (see constraint.go).
	Checks      []CheckConstraint `json:"checks,omitempty"`
	ForeignKeys []ForeignKey      `json:"foreign_keys,omitempty"`
	// InboundFKs are the foreign keys that reference this table.
	InboundFKs []InboundFK `json:"inbound_fks,omitempty"`

	// Owner is the owning role's ID (0, for a relation made before owners
	// were recorded: root); ACL its privileges, nil for the default ones
	// (see acl.go).
	Owner uint32 `json:"owner,omitempty"`
	ACL   *ACL   `json:"acl,omitempty"`

	// CheckExprs caches Checks type-checked over the columns (the sql
	// package compiles them once per descriptor read); not stored.
	CheckExprs []tree.TypedExpr `json:"-"`
	// GeneratedExprs caches the generated columns' expressions, by
	// column ordinal (nil for the others); not stored.
	GeneratedExprs []tree.TypedExpr `json:"-"`
	// PredicateExprs caches partial indexes' predicates, by index ID;
	// not stored.
	PredicateExprs map[uint32]tree.TypedExpr `json:"-"`
}

// ColumnRef names a column of a relation: the relation's ID and the
// column's (ColumnDescriptor.ID, not its place).
type ColumnRef struct {
	Table  uint32 `json:"table"`
	Column uint32 `json:"column"`
}

// HasGenerated reports whether d has a generated column.
func (d *TableDescriptor) HasGenerated() bool {
	for i := range d.Columns {
		if d.Columns[i].Generated != "" {
			return true
		}
	}
	return false
}

// IndexDescriptor describes a secondary index. Its entries are keyed
// /<table>/<index ID>/<indexed columns>/<primary key columns> with an
// empty value: every entry is unique by construction, and a unique index
// checks for another entry with the same indexed values (NULLs never
// conflict, as in PostgreSQL).
type IndexDescriptor struct {
	ID      uint32 `json:"id"`
	Name    string `json:"name"`
	Columns []int  `json:"columns"` // ordinals in the table's Columns
	Unique  bool   `json:"unique,omitempty"`
	// Constraint marks the index of a UNIQUE constraint (pg_constraint
	// lists it), as opposed to a CREATE UNIQUE INDEX.
	Constraint bool `json:"constraint,omitempty"`
	// Include are INCLUDE's columns (ordinals in the table's Columns):
	// recorded and shown, not in the key (every index scan reads the
	// row, so they need not be stored).
	Include []int `json:"include,omitempty"`
	// Predicate is a partial index's WHERE, SQL text over the table's
	// columns: only the rows it holds true for have entries (and a
	// unique one is unique among them). "" for an index of every row.
	Predicate string `json:"predicate,omitempty"`
	// Method is the access method: "" for btree, MethodGIN for an
	// inverted index (index_inverted.go), whose entries are keyed by the
	// parts of its one column's value (each path to a leaf of a jsonb
	// document, each element of an array) rather than by the value.
	Method string `json:"method,omitempty"`
	// OpClass is an inverted index's operator class when it is not the
	// type's default: OpClassJSONBPathOps, which serves @> alone.
	OpClass string `json:"opclass,omitempty"`
}

// MethodGIN is IndexDescriptor.Method of a GIN (inverted) index.
const MethodGIN = "gin"

// OpClassJSONBPathOps is the jsonb operator class that serves only @>.
const OpClassJSONBPathOps = "jsonb_path_ops"

// Inverted reports whether idx is an inverted (GIN) index: several
// entries per row, none of which is the indexed value itself.
func (idx *IndexDescriptor) Inverted() bool { return idx.Method == MethodGIN }

// AccessMethod is idx's access method's name, as pg_am has it.
func (idx *IndexDescriptor) AccessMethod() string {
	if idx.Method == "" {
		return "btree"
	}
	return idx.Method
}

// IsExprColumn reports whether c is the hidden column that holds an
// expression index's key (a hidden generated column).
func (c *ColumnDescriptor) IsExprColumn() bool { return c.Hidden && c.Generated != "" }

// ColumnDescriptor describes one column.
type ColumnDescriptor struct {
	ID       uint32 `json:"id"`
	Name     string `json:"name"`
	TypeName string `json:"type"`
	Nullable bool   `json:"nullable"`
	// Default is the default expression's SQL text, if any.
	Default string `json:"default,omitempty"`
	// Hidden columns (the rowid of a table without a primary key) are not
	// in SELECT *.
	Hidden bool `json:"hidden,omitempty"`
	// Comment is COMMENT ON COLUMN's text ("" for none).
	Comment string `json:"comment,omitempty"`
	// Identity is pg_attribute.attidentity: "a" for GENERATED ALWAYS AS
	// IDENTITY (INSERT may not give a value), "d" for BY DEFAULT. An
	// identity column's Default is its sequence's nextval, which the
	// catalog does not show as a default (nor does PostgreSQL).
	Identity string `json:"identity,omitempty"`
	// Generated is a generated column's expression (GENERATED ALWAYS AS
	// (expr) STORED), as SQL text over the table's other columns; "" for
	// a column that is not generated. Such a column has no Default.
	Generated string `json:"generated,omitempty"`
	// Enum is the column's enum type, for a column of one (see enum.go);
	// TypeName is then the type's name.
	Enum *EnumRef `json:"enum,omitempty"`

	typ *types.T
}

// Type returns the column's type.
func (c *ColumnDescriptor) Type() *types.T { return c.typ }

// WithType returns the column with type t, which it is stored as by its
// SQL name (TypeName).
func (c ColumnDescriptor) WithType(t *types.T) ColumnDescriptor {
	c.TypeName, c.typ, c.Enum = sem.TypeSQLString(t), t, nil
	if t.Family() == types.EnumFamily {
		c.Enum = RefOf(t)
	}
	return c
}

// OwnerID is the ID of the relation's owner.
func (d *TableDescriptor) OwnerID() uint32 {
	if d.Owner == 0 {
		return RootRoleID
	}
	return d.Owner
}

// ObjectKind is the kind of object d is for privileges.
func (d *TableDescriptor) ObjectKind() ObjectKind {
	if d.Sequence != nil {
		return ObjSequence
	}
	return ObjTable
}

// Privileges is d's ACL, its default one if none was set.
func (d *TableDescriptor) Privileges() *ACL {
	if d.ACL != nil {
		return d.ACL
	}
	return DefaultACL(d.ObjectKind(), d.OwnerID(), false)
}

// RelKey names a relation: its database's ID, its schema's name and its
// own name. It is also the key of the relation's name entry, so that a
// name resolves in one read (or none, from a lease).
type RelKey struct {
	DB     uint32
	Schema string
	Name   string
}

// Key is d's RelKey.
func (d *TableDescriptor) Key() RelKey { return RelKey{DB: d.ParentID, Schema: d.Schema, Name: d.Name} }

func (k RelKey) nameKey() []byte {
	b := encoding.EncodeUvarintAscending(append([]byte(nil), namespacePrefix...), uint64(k.DB))
	b = encoding.EncodeStringAscending(b, k.Schema)
	return encoding.EncodeStringAscending(b, k.Name)
}

func descKey(id uint32) []byte {
	return encoding.EncodeUvarintAscending(append([]byte(nil), descPrefix...), uint64(id))
}

// IndexPrefix is the start of a table's primary index.
func (d *TableDescriptor) IndexPrefix() []byte { return d.IndexPrefixOf(PrimaryIndexID) }

func (d *TableDescriptor) IndexPrefixOf(id uint32) []byte {
	b := encoding.EncodeUvarintAscending(nil, uint64(d.ID))
	return encoding.EncodeUvarintAscending(b, uint64(id))
}

// TablePrefix is the start of all of a table's keys.
func (d *TableDescriptor) TablePrefix() []byte {
	return encoding.EncodeUvarintAscending(nil, uint64(d.ID))
}

// IsTable reports whether d is a table: not a view, not a materialized
// view, not a sequence.
func (d *TableDescriptor) IsTable() bool { return d.HasRows() && d.MatViewQuery == "" }

// IsMatView reports whether d is a materialized view.
func (d *TableDescriptor) IsMatView() bool { return d.MatViewQuery != "" }

// HasRows reports whether d stores rows of its own, in a primary index
// and maybe secondary ones: a table or a materialized view (which may be
// indexed, analyzed and vacuumed alike, but not written by DML).
func (d *TableDescriptor) HasRows() bool { return d.ViewQuery == "" && d.Sequence == nil }

// FindIndex returns the secondary index named name, or -1.
func (d *TableDescriptor) FindIndex(name string) int {
	for i := range d.Indexes {
		if d.Indexes[i].Name == name {
			return i
		}
	}
	return -1
}

// ResolveTypes fills in the columns' parsed types.
func (d *TableDescriptor) ResolveTypes() error {
	for i := range d.Columns {
		if r := d.Columns[i].Enum; r != nil {
			d.Columns[i].typ = r.T()
			continue
		}
		t, err := sem.ParseType(d.Columns[i].TypeName)
		if err != nil {
			return errors.Wrapf(err, "table %q column %q", d.Name, d.Columns[i].Name)
		}
		d.Columns[i].typ = t
	}
	return nil
}

// ColumnIndex returns the ordinal of the column named name, or -1.
func (d *TableDescriptor) ColumnIndex(name string) int {
	for i := range d.Columns {
		if d.Columns[i].Name == name {
			return i
		}
	}
	return -1
}

// GetTable reads a relation's descriptor by name; nil if there is none.
func GetTable(ctx context.Context, txn Txn, key RelKey) (*TableDescriptor, error) {
	v, err := txn.Get(ctx, key.nameKey())
	if err != nil || v == nil {
		return nil, err
	}
	_, id, err := encoding.DecodeUvarintAscending(v)
	if err != nil {
		return nil, errors.Wrapf(err, "corrupt namespace entry of table %q", key.Name)
	}
	raw, err := txn.Get(ctx, descKey(uint32(id)))
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, errors.AssertionFailedf("table %q names descriptor %d, which does not exist", key.Name, id)
	}
	d := &TableDescriptor{}
	if err := json.Unmarshal(raw, d); err != nil {
		return nil, errors.Wrapf(err, "corrupt descriptor of table %q", key.Name)
	}
	return d, d.ResolveTypes()
}

// MustGetTable is GetTable with an error for a missing table.
func MustGetTable(ctx context.Context, txn Txn, key RelKey) (*TableDescriptor, error) {
	d, err := GetTable(ctx, txn, key)
	if err == nil && d == nil {
		err = UndefinedTable(key.Name)
	}
	return d, err
}

// UndefinedTable is the error for a table name that names none.
func UndefinedTable(name string) error {
	return pgerror.Newf(pgerror.CodeUndefinedTable, "relation %q does not exist", name)
}

// CreateTable stores a new table's descriptor under a fresh ID.
func CreateTable(ctx context.Context, txn Txn, d *TableDescriptor) error {
	id, err := nextID(ctx, txn, descIDKey, FirstTableID, "descriptor")
	if err != nil {
		return err
	}
	d.ID = id
	raw, err := json.Marshal(d)
	if err != nil {
		return err
	}
	if err := txn.Put(ctx, descKey(d.ID), raw); err != nil {
		return err
	}
	return txn.Put(ctx, d.Key().nameKey(), encoding.EncodeUvarintAscending(nil, uint64(id)))
}

// PutDescriptor writes a changed descriptor.
func PutDescriptor(ctx context.Context, txn Txn, d *TableDescriptor) error {
	raw, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return txn.Put(ctx, descKey(d.ID), raw)
}

// DropTable removes a table, its descriptor, its rows and index entries.
func DropTable(ctx context.Context, txn Txn, d *TableDescriptor) error {
	if err := ClearTable(ctx, txn, d); err != nil {
		return err
	}
	if err := txn.Del(ctx, descKey(d.ID)); err != nil {
		return err
	}
	if err := deleteTableZones(ctx, txn, d.ID); err != nil {
		return err
	}
	if err := deleteStatistics(ctx, txn, d.ID); err != nil {
		return err
	}
	return txn.Del(ctx, d.Key().nameKey())
}

// ClearTable deletes every row of d, from every index: one DeleteRange
// over the table's keys (a scan and a delete per key made pgbench -i's
// ADD PRIMARY KEY take seconds).
func ClearTable(ctx context.Context, txn Txn, d *TableDescriptor) error {
	start := d.TablePrefix()
	_, err := txn.DelRange(ctx, start, PrefixEnd(start))
	return err
}

// ListTables returns the descriptor of every relation in database db,
// by schema and name.
func ListTables(ctx context.Context, txn Txn, db uint32) ([]*TableDescriptor, error) {
	return listTables(ctx, txn, encoding.EncodeUvarintAscending(append([]byte(nil), namespacePrefix...), uint64(db)))
}

// ListTablesInSchema returns the descriptor of every relation in schema
// schema of database db, by name.
func ListTablesInSchema(ctx context.Context, txn Txn, db uint32, schema string) ([]*TableDescriptor, error) {
	start := encoding.EncodeUvarintAscending(append([]byte(nil), namespacePrefix...), uint64(db))
	return listTables(ctx, txn, encoding.EncodeStringAscending(start, schema))
}

// ListAllTables returns the descriptor of every relation of every
// database, by ID.
func ListAllTables(ctx context.Context, txn Txn) ([]*TableDescriptor, error) {
	kvs, err := txn.Scan(ctx, descPrefix, PrefixEnd(descPrefix), 0)
	if err != nil {
		return nil, err
	}
	out := make([]*TableDescriptor, 0, len(kvs))
	for _, kv := range kvs {
		d := &TableDescriptor{}
		if err := json.Unmarshal(kv.Value, d); err != nil {
			return nil, errors.Wrapf(err, "corrupt descriptor at %q", kv.Key)
		}
		if err := d.ResolveTypes(); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func listTables(ctx context.Context, txn Txn, prefix []byte) ([]*TableDescriptor, error) {
	kvs, err := txn.Scan(ctx, prefix, PrefixEnd(prefix), 0)
	if err != nil {
		return nil, err
	}
	out := make([]*TableDescriptor, 0, len(kvs))
	for _, kv := range kvs {
		_, id, err := encoding.DecodeUvarintAscending(kv.Value)
		if err != nil {
			return nil, errors.Wrapf(err, "corrupt namespace entry at %q", kv.Key)
		}
		d, err := GetTableByID(ctx, txn, uint32(id))
		if err != nil {
			return nil, err
		}
		if d == nil {
			return nil, errors.AssertionFailedf("namespace entry %q names descriptor %d, which does not exist", kv.Key, id)
		}
		out = append(out, d)
	}
	return out, nil
}

// PrefixEnd returns the first key after every key with prefix p.
func PrefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return []byte{0xff, 0xff}
}

// RenameTable renames d, moving its namespace entry.
func RenameTable(ctx context.Context, txn Txn, d *TableDescriptor, newName string) error {
	if err := txn.Del(ctx, d.Key().nameKey()); err != nil {
		return err
	}
	d.Name = newName
	if err := PutDescriptor(ctx, txn, d); err != nil {
		return err
	}
	return txn.Put(ctx, d.Key().nameKey(), encoding.EncodeUvarintAscending(nil, uint64(d.ID)))
}

// GetTableByID reads a descriptor by ID; nil if there is none.
func GetTableByID(ctx context.Context, txn Txn, id uint32) (*TableDescriptor, error) {
	raw, err := txn.Get(ctx, descKey(id))
	if err != nil || raw == nil {
		return nil, err
	}
	d := &TableDescriptor{}
	if err := json.Unmarshal(raw, d); err != nil {
		return nil, errors.Wrapf(err, "corrupt descriptor %d", id)
	}
	return d, d.ResolveTypes()
}

// AddIndex adds a secondary index to the descriptor, naming it as
// PostgreSQL would when no name is given (<table>_<cols>_idx, or _key for
// a unique constraint).
func (d *TableDescriptor) AddIndex(name string, cols []string, unique bool) (*IndexDescriptor, error) {
	return d.AddIndexOf(name, cols, unique, "")
}

// AddIndexOf is AddIndex of an index of access method method (see
// IndexDescriptor.Method). An inverted index keys on its column's parts,
// whose types the caller checks, not on its column.
func (d *TableDescriptor) AddIndexOf(name string, cols []string, unique bool, method string) (*IndexDescriptor, error) {
	idx := IndexDescriptor{Unique: unique, Method: method}
	for _, c := range cols {
		i := d.ColumnIndex(c)
		if i < 0 {
			return nil, pgerror.Newf(pgerror.CodeUndefinedColumn, "column %q does not exist", c)
		}
		if method != MethodGIN {
			if err := d.Columns[i].CheckKeyable(); err != nil {
				return nil, err
			}
		}
		idx.Columns = append(idx.Columns, i)
	}
	if name == "" {
		suffix := "idx"
		if unique {
			suffix = "key"
		}
		name = d.Name + "_" + strings.Join(cols, "_") + "_" + suffix
	}
	if d.FindIndex(name) >= 0 || name == d.Name+"_pkey" {
		return nil, pgerror.Newf("42P07", "relation %q already exists", name)
	}
	if d.NextIndexID == 0 {
		d.NextIndexID = PrimaryIndexID + 1
	}
	idx.ID, idx.Name = d.NextIndexID, name
	d.NextIndexID++
	d.Indexes = append(d.Indexes, idx)
	return &d.Indexes[len(d.Indexes)-1], nil
}

func (d *TableDescriptor) HasUniqueIndex() bool {
	for i := range d.Indexes {
		if d.Indexes[i].Unique {
			return true
		}
	}
	return false
}
