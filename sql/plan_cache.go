package sql

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/meridiandb/meridian/sql/lease"
)

// Plan cache. A prepared statement (extended protocol, or SQL PREPARE)
// keeps the plan its first execution built, untouched, and later
// executions run a fresh copy of it instead of planning again: what
// PostgreSQL calls a generic plan, taken at once (parameters are read
// when the plan runs: key spans, limits and filters evaluate them then).
//
// A kept plan runs again only while everything it was built from is
// unchanged: the table descriptors (all taken from leases, whose
// generation changes whenever any of the node's leases does, as it must
// before a transaction can see a changed descriptor), the session's
// settings, role and search path, and the statistics the node plans
// with. Each run resolves the plan's table names again (taking the
// leases for its transaction, so that schema changes wait for it, and
// checking that each name still means the same table) and makes the
// privilege checks planning made. Plans with subqueries, and plans with a
// node that cannot be copied, are not kept.

// planRecord is what planning noted for the cache.
type planRecord struct {
	tables      []recordedTable
	uncacheable bool
}

// recordedTable is a table name the plan resolved and the table it
// found.
type recordedTable struct {
	name tree.TableName
	id   uint32
}

// planKey is what a kept plan was built under.
type planKey struct {
	names    *names
	settings uint64
	role     string
	leases   uint64
	stats    uint64
}

// cachedPlan is a prepared statement's kept plan.
type cachedPlan struct {
	key        planKey
	pristine   planNode // never run: each execution runs a copy
	tag        string
	tables     []recordedTable
	reqs       []privReq
	schemaReqs []schemaReq
}

// planStatement plans stmt for run: from the kept plan of the prepared
// statement being executed when it is still good, else anew (keeping the
// plan when it can be kept), with the statement's privileges checked
// either way.
func (s *session) planStatement(b *builder, stmt tree.Statement) (planNode, string, error) {
	ps := s.executing
	gen, ok := lease.PlanGeneration(b.txn)
	if ps == nil || ps.ast != stmt || !ok {
		return buildChecked(b, stmt)
	}
	key := planKey{names: s.names, settings: s.settingsGen, role: s.currentRole(), leases: gen, stats: s.ex.stats.generation.Load()}
	if c := ps.plan; c != nil && c.key == key {
		plan, ok, err := s.reusePlan(b, c)
		if err != nil || ok {
			return plan, c.tag, err
		}
	}
	ps.plan = nil
	b.record = &planRecord{}
	plan, tag, err := b.buildPlan(stmt)
	if err != nil {
		return nil, "", err
	}
	c := &cachedPlan{key: key, tag: tag, tables: b.record.tables}
	if b.priv != nil {
		c.reqs, c.schemaReqs = append([]privReq(nil), b.priv.reqs...), b.priv.schemaReqs
	}
	if err := b.priv.checkReqs(); err != nil {
		return nil, "", err
	}
	if !b.record.uncacheable {
		if c.pristine, ok = clonePlan(plan); ok {
			ps.plan = c
		}
	}
	return plan, tag, nil
}

// buildChecked plans stmt and makes the privilege checks planning
// collected.
func buildChecked(b *builder, stmt tree.Statement) (planNode, string, error) {
	plan, tag, err := b.buildPlan(stmt)
	if err == nil {
		err = b.priv.checkReqs()
	}
	return plan, tag, err
}

// reusePlan returns a copy of c's plan if its tables' names still mean
// the same tables; the privilege checks are made again.
func (s *session) reusePlan(b *builder, c *cachedPlan) (planNode, bool, error) {
	for i := range c.tables {
		t := &c.tables[i]
		name := t.name
		d, err := s.names.findLeased(b.ctx, b.txn, &name)
		if err != nil {
			return nil, false, err
		}
		if d == nil || d.ID != t.id {
			return nil, false, nil
		}
	}
	if b.priv != nil {
		for _, r := range c.schemaReqs {
			if err := b.priv.checkSchema(r.db, r.name, r.priv, r.as); err != nil {
				return nil, false, err
			}
		}
		b.priv.reqs = append(b.priv.reqs[:0], c.reqs...)
		if err := b.priv.checkReqs(); err != nil {
			return nil, false, err
		}
	}
	plan, ok := clonePlan(c.pristine)
	if ok {
		s.ex.PlanCacheHits.Add(1)
	}
	return plan, ok, nil
}

// cloner is a plan node that can be copied for another run: the copy
// shares what planning made (descriptors, expressions) and none of the
// state running builds up.
type cloner interface {
	clonePlan() (planNode, bool)
}

// clonePlan copies the plan p; false if some node in it cannot be.
func clonePlan(p planNode) (planNode, bool) {
	c, ok := p.(cloner)
	if !ok {
		return nil, false
	}
	return c.clonePlan()
}

// cloneInputs copies the nodes at ins in place.
func cloneInputs(ins ...*planNode) bool {
	for _, in := range ins {
		c, ok := clonePlan(*in)
		if !ok {
			return false
		}
		*in = c
	}
	return true
}

func (n *scanNode) clonePlan() (planNode, bool) {
	c := *n
	if n.inverted != nil {
		c.inverted = &invertedPlan{conds: n.inverted.conds}
	}
	return &c, true
}

func (n *valuesNode) clonePlan() (planNode, bool) {
	c := *n
	return &c, true
}

func (n *renderNode) clonePlan() (planNode, bool) {
	c := *n
	return &c, cloneInputs(&c.src)
}

func (n *filterNode) clonePlan() (planNode, bool) {
	c := *n
	return &c, cloneInputs(&c.src)
}

func (n *limitNode) clonePlan() (planNode, bool) {
	c := *n
	return &c, cloneInputs(&c.src)
}

func (n *sortNode) clonePlan() (planNode, bool) {
	c := *n
	return &c, cloneInputs(&c.src)
}

func (n *groupNode) clonePlan() (planNode, bool) {
	c := *n
	return &c, cloneInputs(&c.src)
}

func (n *reorderNode) clonePlan() (planNode, bool) {
	c := *n
	return &c, cloneInputs(&c.src)
}

// A lookup join's right side is a scan it reads by key, never runs: it
// is shared.
func (n *joinNode) clonePlan() (planNode, bool) {
	c := *n
	if n.looksUp() {
		return &c, cloneInputs(&c.left)
	}
	return &c, cloneInputs(&c.left, &c.right)
}

func (n *insertNode) clonePlan() (planNode, bool) {
	c := *n
	return &c, cloneInputs(&c.src)
}

func (n *updateNode) clonePlan() (planNode, bool) {
	c := *n
	return &c, cloneInputs(&c.src)
}

func (n *deleteNode) clonePlan() (planNode, bool) {
	c := *n
	return &c, cloneInputs(&c.src)
}

func (n *fullRowNode) clonePlan() (planNode, bool) {
	c := *n
	return &c, cloneInputs(&c.src)
}
