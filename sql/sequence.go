package sql

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/meridiandb/meridian/sql/sem"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/kvapi"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/rowenc"
	"github.com/meridiandb/meridian/sql/vtable"
)

// newSequenceDescriptor describes a sequence named name with the options
// opts (CREATE SEQUENCE's, or an identity column's), checked as PostgreSQL
// checks them.
func newSequenceDescriptor(name string, opts tree.SequenceOptions) (*catalog.TableDescriptor, error) {
	so := &catalog.SequenceOptions{Type: "bigint", Increment: 1, Cache: 1}
	var minV, maxV, start *int64
	seen := map[string]bool{}
	for _, o := range opts {
		if seen[o.Name] {
			return nil, pgerror.New(pgerror.CodeSyntaxError, "conflicting or redundant options")
		}
		seen[o.Name] = true
		switch o.Name {
		case tree.SeqOptAs:
			switch o.AsIntegerType.Oid() {
			case types.Int2.Oid():
				so.Type = "smallint"
			case types.Int4.Oid():
				so.Type = "integer"
			case types.Int.Oid():
				so.Type = "bigint"
			default:
				return nil, pgerror.New(pgerror.CodeInvalidParameterValue, "sequence type must be smallint, integer, or bigint")
			}
		case tree.SeqOptIncrement:
			if o.IntVal != nil {
				so.Increment = *o.IntVal
			}
		case tree.SeqOptMinValue:
			minV = o.IntVal // nil: NO MINVALUE
		case tree.SeqOptMaxValue:
			maxV = o.IntVal
		case tree.SeqOptStart:
			start = o.IntVal
		case tree.SeqOptCache:
			if o.IntVal != nil {
				so.Cache = *o.IntVal
			}
		case tree.SeqOptCycle:
			so.Cycle = true
		case tree.SeqOptNoCycle:
			so.Cycle = false
		case tree.SeqOptOwnedBy:
			// Recorded by the caller, which knows the table.
		default:
			return nil, pgerror.Unsupported("sequence option %s is not supported", o.Name)
		}
	}
	if so.Increment == 0 {
		return nil, pgerror.New(pgerror.CodeInvalidParameterValue, "INCREMENT must not be zero")
	}
	if so.Cache < 1 {
		return nil, pgerror.Newf(pgerror.CodeInvalidParameterValue, "CACHE (%d) must be greater than zero", so.Cache)
	}
	typeMin, typeMax := int64(math.MinInt64), int64(math.MaxInt64)
	switch so.Type {
	case "smallint":
		typeMin, typeMax = math.MinInt16, math.MaxInt16
	case "integer":
		typeMin, typeMax = math.MinInt32, math.MaxInt32
	}
	// PostgreSQL's defaults: an ascending sequence runs from 1 to the
	// type's maximum, a descending one from -1 down to its minimum.
	if so.Increment > 0 {
		so.MinValue, so.MaxValue = 1, typeMax
	} else {
		so.MinValue, so.MaxValue = typeMin, -1
	}
	if minV != nil {
		so.MinValue = *minV
	}
	if maxV != nil {
		so.MaxValue = *maxV
	}
	if so.MinValue < typeMin || so.MinValue > typeMax {
		return nil, pgerror.Newf(pgerror.CodeInvalidParameterValue, "MINVALUE (%d) is out of range for sequence data type %s", so.MinValue, so.Type)
	}
	if so.MaxValue < typeMin || so.MaxValue > typeMax {
		return nil, pgerror.Newf(pgerror.CodeInvalidParameterValue, "MAXVALUE (%d) is out of range for sequence data type %s", so.MaxValue, so.Type)
	}
	if so.MinValue >= so.MaxValue {
		return nil, pgerror.Newf(pgerror.CodeInvalidParameterValue, "MINVALUE (%d) must be less than MAXVALUE (%d)", so.MinValue, so.MaxValue)
	}
	so.Start = so.MinValue
	if so.Increment < 0 {
		so.Start = so.MaxValue
	}
	if start != nil {
		so.Start = *start
	}
	if so.Start < so.MinValue {
		return nil, pgerror.Newf(pgerror.CodeInvalidParameterValue, "START value (%d) cannot be less than MINVALUE (%d)", so.Start, so.MinValue)
	}
	if so.Start > so.MaxValue {
		return nil, pgerror.Newf(pgerror.CodeInvalidParameterValue, "START value (%d) cannot be greater than MAXVALUE (%d)", so.Start, so.MaxValue)
	}
	d := &catalog.TableDescriptor{Name: name, Sequence: so, NextColumnID: uint32(len(catalog.SequenceColumns))}
	d.Columns = append([]catalog.ColumnDescriptor(nil), catalog.SequenceColumns...)
	return d, nil
}

// createSequence stores a new sequence and its first row.
func createSequence(ctx context.Context, txn kvapi.Txn, d *catalog.TableDescriptor) error {
	if err := catalog.CreateTable(ctx, txn, d); err != nil {
		return err
	}
	return putSequenceRow(ctx, txn, d, d.Sequence.Start, false)
}

func putSequenceRow(ctx context.Context, txn kvapi.Txn, d *catalog.TableDescriptor, last int64, called bool) error {
	row := tree.Datums{tree.NewDInt(tree.DInt(last)), tree.NewDInt(0), tree.MakeDBool(tree.DBool(called))}
	key, err := rowenc.RowKey(d, row)
	if err != nil {
		return err
	}
	val, err := rowenc.RowValue(d, row)
	if err != nil {
		return err
	}
	return txn.Put(ctx, key, val)
}

// descriptorWriter is a transaction that knows which descriptors it
// wrote (lease.Txn).
type descriptorWriter interface {
	WroteDescriptor(id uint32) bool
}

// errSequenceUnseen marks a sequence whose row a transaction cannot see:
// one created by another transaction that has not committed (the
// statement's own, when CREATE SEQUENCE and its first nextval share a
// transaction block or a multi-statement query).
var errSequenceUnseen = errors.New("sequence row not visible")

func getSequenceRow(ctx context.Context, txn kvapi.Txn, d *catalog.TableDescriptor) (last int64, called bool, _ error) {
	key := d.IndexPrefix()
	raw, err := txn.Get(ctx, key)
	if err != nil {
		return 0, false, err
	}
	if raw == nil {
		return 0, false, errors.Mark(errors.AssertionFailedf("sequence %q has no row", d.Name), errSequenceUnseen)
	}
	row, err := rowenc.DecodeRow(d, key, raw)
	if err != nil {
		return 0, false, err
	}
	return int64(tree.MustBeDInt(row[0])), bool(tree.MustBeDBool(row[2])), nil
}

func (b schemaChanger) createSequence(cs *tree.CreateSequence) error {
	if cs.Persistence == tree.PersistenceUnlogged {
		return pgerror.Unsupported("unlogged sequences are not supported: every write is replicated and durable")
	}
	key, existing, err := b.newRelation(&cs.Name)
	if err != nil {
		return err
	}
	name := key.Name
	if existing != nil {
		if cs.IfNotExists {
			return nil
		}
		return pgerror.Newf("42P07", "relation %q already exists", name)
	}
	d, err := newSequenceDescriptor(name, cs.Options)
	if err != nil {
		return err
	}
	d.ParentID, d.Schema = key.DB, key.Schema
	for _, o := range cs.Options {
		if o.Name != tree.SeqOptOwnedBy || o.ColumnItemVal == nil {
			continue
		}
		ci := o.ColumnItemVal
		if ci.TableName == nil {
			return pgerror.New(pgerror.CodeInvalidParameterValue, "invalid OWNED BY option")
		}
		tn := ci.TableName.ToTableName()
		t, err := b.names.mustFind(b.ctx, b.txn, &tn)
		if err != nil {
			return err
		}
		if t.ColumnIndex(string(ci.ColumnName)) < 0 {
			return pgerror.Newf(pgerror.CodeUndefinedColumn, "column %q of relation %q does not exist", ci.ColumnName, t.Name)
		}
		d.Sequence.OwnedByTable, d.Sequence.OwnedByColumn = t.ID, string(ci.ColumnName)
	}
	return b.createSequenceRel(d)
}

// dropOwnedSequences drops the sequences that d's columns own.
func dropOwnedSequences(ctx context.Context, txn kvapi.Txn, d *catalog.TableDescriptor) error {
	all, err := catalog.ListTables(ctx, txn, d.ParentID)
	if err != nil {
		return err
	}
	for _, s := range all {
		if s.Sequence != nil && s.Sequence.OwnedByTable == d.ID {
			if err := catalog.DropTable(ctx, txn, s); err != nil {
				return err
			}
		}
	}
	return nil
}

// columnSequence sets up the sequence of a SERIAL or identity column c of
// table d (not yet created): <table>_<column>_seq, as PostgreSQL names it,
// and c's default. The caller creates it once d has its ID.
func columnSequence(d *catalog.TableDescriptor, c *catalog.ColumnDescriptor, opts tree.SequenceOptions) (*catalog.TableDescriptor, error) {
	typ := "bigint"
	switch c.Type().Oid() {
	case types.Int2.Oid():
		typ = "smallint"
	case types.Int4.Oid():
		typ = "integer"
	}
	name := d.Name + "_" + c.Name + "_seq"
	all := append(tree.SequenceOptions{{Name: tree.SeqOptAs, AsIntegerType: c.Type()}}, opts...)
	if typ == "bigint" {
		all = opts
	}
	s, err := newSequenceDescriptor(name, all)
	if err != nil {
		return nil, err
	}
	s.Sequence.OwnedByColumn = c.Name
	// The default names the sequence's schema unless it is public, so
	// that it draws from that sequence whatever the search path.
	if d.Schema != "" && d.Schema != catalog.PublicSchema {
		name = d.Schema + "." + name
	}
	c.Default = fmt.Sprintf("nextval('%s'::REGCLASS)", name)
	return s, nil
}

// seqState is a session's view of one sequence: what currval returns and
// the values it reserved (CACHE) and has not handed out yet.
type seqState struct {
	// current is what currval returns, once defined.
	current int64
	defined bool
	// next is the first of cached reserved values (next, next+increment,
	// ...).
	next, cached int64
}

// sequenceByArg finds the sequence a nextval-style function names: by
// name (text) or by relation OID (regclass).
func sequenceByArg(e *sem.EvalCtx, arg tree.Datum) (*catalog.TableDescriptor, error) {
	c := catalogOf(e)
	if c == nil {
		return lookupSequence(e, arg)
	}
	key := tree.AsString(arg)
	if d, ok := c.seqs[key]; ok {
		return d, nil
	}
	d, err := lookupSequence(e, arg)
	if err != nil {
		return nil, err
	}
	if c.seqs == nil {
		c.seqs = map[string]*catalog.TableDescriptor{}
	}
	c.seqs[key] = d
	return d, nil
}

func lookupSequence(e *sem.EvalCtx, arg tree.Datum) (*catalog.TableDescriptor, error) {
	var d *catalog.TableDescriptor
	var err error
	switch x := arg.(type) {
	case *tree.DString:
		tn, perr := parseRelationName(string(*x))
		if perr != nil {
			return nil, perr
		}
		if d, err = namesOf(e).find(e.Ctx, e.Txn, tn); err == nil && d == nil {
			err = undefinedRelation(tn)
		}
	case *tree.DOid:
		if x.Oid >= vtable.RelOIDBase && x.Oid < vtable.RelOIDBase+1<<24 {
			d, err = catalog.GetTableByID(e.Ctx, e.Txn, uint32(x.Oid-vtable.RelOIDBase))
		}
		if err == nil && d == nil {
			err = pgerror.Newf(pgerror.CodeUndefinedTable, "relation with OID %d does not exist", x.Oid)
		}
	default:
		return nil, errors.AssertionFailedf("sequence argument of type %T", arg)
	}
	if err != nil {
		return nil, err
	}
	if d.Sequence == nil {
		return nil, pgerror.Newf("42809", "%q is not a sequence", d.Name)
	}
	return d, nil
}

// nextval hands out d's next value: from the session's reserved values,
// or by reserving more in a transaction of its own, which commits at once
// (PostgreSQL's nextval is never rolled back either).
func nextval(e *sem.EvalCtx, d *catalog.TableDescriptor) (int64, error) {
	if sessionOf(e) == nil {
		return 0, errors.AssertionFailedf("nextval outside a session")
	}
	so := d.Sequence
	st := sessionOf(e).sequences[d.ID]
	if st == nil || st.cached == 0 {
		var first, last, n int64 // the values reserved: first, ..., last; n of them
		reserve := func(txn kvapi.Txn) error {
			cur, called, err := getSequenceRow(e.Ctx, txn, d)
			if err != nil {
				return err
			}
			v := cur
			if called {
				if v, err = seqStep(d, cur); err != nil {
					return err
				}
			}
			first, last, n = v, v, 1
			for n < so.Cache {
				next, ok := seqAdd(so, last)
				if !ok {
					break // the cache stops at the bound; the next call cycles or fails
				}
				last, n = next, n+1
			}
			return putSequenceRow(e.Ctx, txn, d, last, true)
		}
		if err := sequenceTxn(e, d, reserve); err != nil {
			return 0, err
		}
		st = &seqState{next: first, cached: n}
		if sessionOf(e).sequences == nil {
			sessionOf(e).sequences = map[uint32]*seqState{}
		}
		sessionOf(e).sequences[d.ID] = st
	}
	v := st.next
	st.cached--
	st.next += so.Increment
	st.current, st.defined = v, true
	sessionOf(e).lastSequence = d.ID
	return v, nil
}

// seqAdd is v plus the increment, if that stays within the bounds.
func seqAdd(so *catalog.SequenceOptions, v int64) (int64, bool) {
	if so.Increment > 0 && v > so.MaxValue-so.Increment {
		return 0, false
	}
	if so.Increment < 0 && v < so.MinValue-so.Increment {
		return 0, false
	}
	return v + so.Increment, true
}

// seqStep is the value after cur: cycling or failing at the bound.
func seqStep(d *catalog.TableDescriptor, cur int64) (int64, error) {
	so := d.Sequence
	if v, ok := seqAdd(so, cur); ok {
		return v, nil
	}
	switch {
	case so.Cycle && so.Increment > 0:
		return so.MinValue, nil
	case so.Cycle:
		return so.MaxValue, nil
	case so.Increment > 0:
		return 0, pgerror.Newf("2200H", "nextval: reached maximum value of sequence %q (%d)", d.Name, so.MaxValue)
	default:
		return 0, pgerror.Newf("2200H", "nextval: reached minimum value of sequence %q (%d)", d.Name, so.MinValue)
	}
}

// setval sets d's value: the next nextval returns v's successor when
// called is set, v itself otherwise.
func setval(e *sem.EvalCtx, d *catalog.TableDescriptor, v int64, called bool) error {
	so := d.Sequence
	if v < so.MinValue || v > so.MaxValue {
		return pgerror.Newf(pgerror.CodeNumericValueOutOfRange, "setval: value %d is out of bounds for sequence %q (%d..%d)", v, d.Name, so.MinValue, so.MaxValue)
	}
	if err := sequenceTxn(e, d, func(txn kvapi.Txn) error {
		return putSequenceRow(e.Ctx, txn, d, v, called)
	}); err != nil {
		return err
	}
	if sessionOf(e).sequences == nil {
		sessionOf(e).sequences = map[uint32]*seqState{}
	}
	// Reserved values are dropped: the next nextval starts from v.
	st := &seqState{}
	if old := sessionOf(e).sequences[d.ID]; old != nil {
		st.current, st.defined = old.current, old.defined
	}
	if called {
		st.current, st.defined = v, true
		sessionOf(e).lastSequence = d.ID
	}
	sessionOf(e).sequences[d.ID] = st
	return nil
}

// currval is the value nextval last returned in this session.
func currval(e *sem.EvalCtx, d *catalog.TableDescriptor) (int64, error) {
	st := sessionOf(e).sequences[d.ID]
	if st == nil || !st.defined {
		return 0, pgerror.Newf("55000", "currval of sequence %q is not yet defined in this session", d.Name)
	}
	return st.current, nil
}

// sequenceTxn runs fn, a change to d's row, in a transaction of its own
// that commits at once (nextval and setval are never rolled back, as in
// PostgreSQL) — unless the statement's transaction created or changed the
// sequence and has not committed: a transaction of its own would wait on
// that one's intent (or, on memkv, not see the row), so fn runs in the
// statement's transaction (if it rolls back, the sequence goes with it).
func sequenceTxn(e *sem.EvalCtx, d *catalog.TableDescriptor, fn func(kvapi.Txn) error) error {
	if w, ok := e.Txn.(descriptorWriter); ok && w.WroteDescriptor(d.ID) {
		return fn(e.Txn)
	}
	err := sessionOf(e).ex.runOwnTxn(e.Ctx, func(txn kvapi.Txn) error {
		// The row must be there for it (setval only writes it).
		if _, _, err := getSequenceRow(e.Ctx, txn, d); err != nil {
			return err
		}
		return fn(txn)
	})
	if errors.Is(err, errSequenceUnseen) && e.Txn != nil {
		err = fn(e.Txn)
	}
	return err
}

// runOwnTxn runs fn in a transaction of its own and commits it, retrying
// serialization failures (another session taking values at the same
// moment).
func (ex *Executor) runOwnTxn(ctx context.Context, fn func(kvapi.Txn) error) error {
	return kvapi.RunTxn(ctx, ex.db, maxImplicitRetries, 100*time.Millisecond, fn)
}

// alterSequence is ALTER SEQUENCE: its options change as CREATE SEQUENCE
// would set them (checked the same way, the options not given keeping
// their values); RESTART [WITH n] makes the next nextval return n (the
// start by default), as setval(n, false) would, in the statement's
// transaction.
func (b schemaChanger) alterSequence(as *tree.AlterSequence) error {
	tn := as.Name.ToTableName()
	name := tn.Object()
	d, err := b.names.find(b.ctx, b.txn, &tn)
	if err != nil {
		return err
	}
	if d == nil {
		if as.IfExists {
			return nil
		}
		return pgerror.Newf(pgerror.CodeUndefinedTable, "relation %q does not exist", name)
	}
	if d.Sequence == nil {
		return pgerror.Newf("42809", "%q is not a sequence", d.Name)
	}
	if err := b.checkOwner(d); err != nil {
		return err
	}
	cur := d.Sequence
	given := map[string]bool{}
	var restart *int64
	restartGiven := false
	var merged tree.SequenceOptions
	for _, o := range as.Options {
		switch o.Name {
		case tree.SeqOptRestart:
			restartGiven, restart = true, o.IntVal
			continue
		case tree.SeqOptOwnedBy:
			return pgerror.Unsupported("ALTER SEQUENCE ... OWNED BY is not supported yet")
		}
		given[o.Name] = true
		merged = append(merged, o)
	}
	keep := func(opt string, v int64) {
		if !given[opt] {
			merged = append(merged, tree.SequenceOption{Name: opt, IntVal: &v})
		}
	}
	if !given[tree.SeqOptAs] {
		t := types.Int
		switch cur.Type {
		case "smallint":
			t = types.Int2
		case "integer":
			t = types.Int4
		}
		merged = append(merged, tree.SequenceOption{Name: tree.SeqOptAs, AsIntegerType: t})
	}
	keep(tree.SeqOptIncrement, cur.Increment)
	keep(tree.SeqOptMinValue, cur.MinValue)
	keep(tree.SeqOptMaxValue, cur.MaxValue)
	keep(tree.SeqOptStart, cur.Start)
	keep(tree.SeqOptCache, cur.Cache)
	if !given[tree.SeqOptCycle] && !given[tree.SeqOptNoCycle] && cur.Cycle {
		merged = append(merged, tree.SequenceOption{Name: tree.SeqOptCycle})
	}
	nd, err := newSequenceDescriptor(d.Name, merged)
	if err != nil {
		return err
	}
	nd.Sequence.OwnedByTable, nd.Sequence.OwnedByColumn = cur.OwnedByTable, cur.OwnedByColumn
	d.Sequence = nd.Sequence
	if err := catalog.PutDescriptor(b.ctx, b.txn, d); err != nil {
		return err
	}
	if !restartGiven {
		return nil
	}
	v := d.Sequence.Start
	if restart != nil {
		v = *restart
	}
	if v < d.Sequence.MinValue || v > d.Sequence.MaxValue {
		return pgerror.Newf(pgerror.CodeInvalidParameterValue, "RESTART value (%d) cannot be outside [%d, %d]", v, d.Sequence.MinValue, d.Sequence.MaxValue)
	}
	return putSequenceRow(b.ctx, b.txn, d, v, false)
}
