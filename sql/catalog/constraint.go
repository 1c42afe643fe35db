package catalog

import "fmt"

// CheckConstraint is a CHECK constraint: a boolean expression over a
// table's row, which a row written must not make false (NULL passes, as
// in PostgreSQL).
type CheckConstraint struct {
	Name string `json:"name"`
	// Expr is the expression's SQL text; it names columns, so it survives
	// other columns being added or dropped.
	Expr string `json:"expr"`
}

// HasConstraint reports whether d has a constraint (key, unique index,
// check or foreign key) named name.
func (d *TableDescriptor) HasConstraint(name string) bool {
	if name == d.Name+"_pkey" || d.FindIndex(name) >= 0 {
		return true
	}
	for _, c := range d.Checks {
		if c.Name == name {
			return true
		}
	}
	for _, fk := range d.ForeignKeys {
		if fk.Name == name {
			return true
		}
	}
	return false
}

// FreeConstraintName is base, or base followed by the first number that
// makes it unused, as PostgreSQL picks.
func (d *TableDescriptor) FreeConstraintName(base string) string {
	name := base
	for i := 1; d.HasConstraint(name); i++ {
		name = fmt.Sprintf("%s%d", base, i)
	}
	return name
}

// ForeignKey is a FOREIGN KEY constraint of the table holding it (the
// referencing table): its Columns' values, when none is NULL (MATCH
// SIMPLE), must be those of a row of RefTable's RefColumns, which are its
// primary key or a unique index's columns.
type ForeignKey struct {
	Name       string   `json:"name"`
	Columns    []string `json:"columns"`
	RefTable   uint32   `json:"ref_table"`
	RefColumns []string `json:"ref_columns"`
	// OnDelete and OnUpdate are the referential actions: "" (NO ACTION),
	// RESTRICT, CASCADE, SET NULL or SET DEFAULT.
	OnDelete string `json:"on_delete,omitempty"`
	OnUpdate string `json:"on_update,omitempty"`
}

// InboundFK names a foreign key of another table (or of this one) that
// references this table, so that deletes and updates here can find it.
type InboundFK struct {
	Table uint32 `json:"table"`
	Name  string `json:"name"`
}

// UniqueKey is a unique constraint a foreign key can reference: the
// primary key (index nil) or a unique index.
type UniqueKey struct {
	Index *IndexDescriptor
	Cols  []int
}

// UniqueKeyOn finds the primary key or unique index over exactly cols (in
// any order, as PostgreSQL accepts), nil if there is none.
func (d *TableDescriptor) UniqueKeyOn(cols []string) *UniqueKey {
	same := func(ords []int) bool {
		if len(ords) != len(cols) {
			return false
		}
		for _, c := range cols {
			found := false
			for _, o := range ords {
				if d.Columns[o].Name == c {
					found = true
				}
			}
			if !found {
				return false
			}
		}
		return true
	}
	if same(d.PrimaryKey) {
		return &UniqueKey{Cols: d.PrimaryKey}
	}
	for i := range d.Indexes {
		if idx := &d.Indexes[i]; idx.Unique && same(idx.Columns) {
			return &UniqueKey{Index: idx, Cols: idx.Columns}
		}
	}
	return nil
}

// Ordinals maps column names to d's ordinals.
func (d *TableDescriptor) Ordinals(names []string) []int {
	out := make([]int, len(names))
	for i, n := range names {
		out[i] = d.ColumnIndex(n)
	}
	return out
}

// RemoveInbound forgets foreign key name of table child.
func (d *TableDescriptor) RemoveInbound(child uint32, name string) {
	kept := d.InboundFKs[:0]
	for _, in := range d.InboundFKs {
		if in.Table != child || in.Name != name {
			kept = append(kept, in)
		}
	}
	d.InboundFKs = kept
}
