package sql

import (
	"fmt"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// Zone configurations in CockroachDB's syntax (catalog/zone.go keeps
// them): ALTER RANGE default | DATABASE d | TABLE t | INDEX t@i CONFIGURE
// ZONE USING k = v, ... | DISCARD, SHOW ZONE CONFIGURATIONS and SHOW ZONE
// CONFIGURATION FROM .... The nodes' replicate queues apply them.

var showZoneCols = []resultColumn{{name: "target", typ: types.String}, {name: "raw_config_sql", typ: types.String}}

// zoneObject is a zone target resolved from a statement's specifier,
// with the names SHOW prints for it.
type zoneObject struct {
	target ZoneTargetNames
	// db, table, index are the IDs resolution walks through.
	db, table, index uint32
}

// ZoneTargetNames is how SHOW ZONE CONFIGURATION names a target: "TABLE
// t" (target column) and "TABLE t" after ALTER (raw_config_sql).
type ZoneTargetNames struct {
	catalog.ZoneTarget
	Name string
}

func (s *session) resolveZoneSpecifier(b *builder, zs tree.ZoneSpecifier) (zoneObject, error) {
	switch {
	case zs.Partition != "" || zs.StarIndex:
		return zoneObject{}, pgerror.Unsupported("partitions do not exist yet: zone configurations apply to RANGE default, databases, tables and indexes")
	case zs.NamedZone != "":
		if zs.NamedZone != "default" {
			return zoneObject{}, pgerror.Unsupported("named zone %q: only RANGE default has a zone configuration (the system ranges follow it)", string(zs.NamedZone))
		}
		return zoneObject{target: ZoneTargetNames{catalog.DefaultZoneTarget, "RANGE default"}}, nil
	case zs.Database != "":
		db, err := catalog.MustGetDatabase(b.ctx, b.txn, string(zs.Database))
		if err != nil {
			return zoneObject{}, err
		}
		return zoneObject{target: ZoneTargetNames{catalog.ZoneTarget{Kind: catalog.ZoneDatabase, ID: db.ID}, "DATABASE " + tree.NameString(db.Name)}, db: db.ID}, nil
	}
	d, idx, err := b.tableIndex(zs.TableOrIndex)
	if err != nil {
		return zoneObject{}, err
	}
	o := zoneObject{db: d.ParentID, table: d.ID}
	o.target = ZoneTargetNames{catalog.ZoneTarget{Kind: catalog.ZoneTable, ID: d.ID}, "TABLE " + tree.NameString(d.Name)}
	if zs.TableOrIndex.Index != "" {
		o.index = indexID(idx)
		o.target.Index = o.index
		o.target.Name = "INDEX " + tree.NameString(d.Name) + "@" + tree.NameString(string(zs.TableOrIndex.Index))
	}
	return o, nil
}

// setZoneConfig is ALTER ... CONFIGURE ZONE.
func (s *session) setZoneConfig(b *builder, r *runner, st *tree.SetZoneConfig) (*result, error) {
	if err := s.requireSuperuser(b, "CONFIGURE ZONE"); err != nil {
		return nil, err
	}
	o, err := s.resolveZoneSpecifier(b, st.ZoneSpecifier)
	if err != nil {
		return nil, err
	}
	res := &result{tag: "CONFIGURE ZONE 1"}
	switch {
	case st.Discard:
		return res, catalog.DeleteZone(b.ctx, b.txn, o.target.ZoneTarget)
	case st.YAMLConfig != nil:
		return nil, pgerror.Unsupported("CONFIGURE ZONE = '<yaml>' is not supported: use CONFIGURE ZONE USING key = value, ...")
	}
	z, err := catalog.GetZone(b.ctx, b.txn, o.target.ZoneTarget)
	if err != nil {
		return nil, err
	}
	if z == nil {
		z = &catalog.ZoneConfig{}
	}
	if st.SetDefault {
		z = catalog.DefaultZoneConfig()
	}
	seen := map[string]bool{}
	for _, opt := range st.Options {
		key := string(opt.Key)
		if seen[key] {
			return nil, pgerror.Newf("42601", "duplicate zone config parameter: %q", key)
		}
		seen[key] = true
		if err := s.setZoneField(b, r, z, key, opt.Value, o.target.Kind == catalog.ZoneDefault); err != nil {
			return nil, err
		}
	}
	// What the object ends up with must hold together (min below max,
	// constraints that parse), counting what it inherits.
	zones, err := catalog.ListZones(b.ctx, b.txn)
	if err != nil {
		return nil, err
	}
	zones[o.target.ZoneTarget] = z
	resolved, _ := catalog.ResolveZone(zones, o.db, o.table, o.index)
	if err := resolved.Validate(); err != nil {
		return nil, err
	}
	return res, catalog.PutZone(b.ctx, b.txn, o.target.ZoneTarget, z)
}

// setZoneField sets one CONFIGURE ZONE USING field; a nil value (COPY
// FROM PARENT) makes it inherited again.
func (s *session) setZoneField(b *builder, r *runner, z *catalog.ZoneConfig, key string, value tree.Expr, isDefault bool) error {
	intField := func(dst **int64) error {
		if value == nil {
			*dst = nil
			return nil
		}
		v, err := b.constInt(r, value)
		if err != nil {
			return pgerror.Newf("22023", "%s: %v", key, err)
		}
		*dst = &v
		return nil
	}
	strField := func(dst **string) error {
		if value == nil {
			*dst = nil
			return nil
		}
		te, err := b.typeCheck(value, &scope{}, types.String)
		if err != nil {
			return err
		}
		v, err := r.evalIn(te, nil)
		if err != nil {
			return err
		}
		sv, ok := v.(*tree.DString)
		if !ok {
			return pgerror.Newf("22023", "%s: want a string such as '[+region=a]'", key)
		}
		str := string(*sv)
		*dst = &str
		return nil
	}
	if value == nil && isDefault {
		return pgerror.Newf("22023", "RANGE default has no parent to copy %s from", key)
	}
	switch key {
	case "num_replicas":
		return intField(&z.NumReplicas)
	case "range_min_bytes":
		return intField(&z.RangeMinBytes)
	case "range_max_bytes":
		return intField(&z.RangeMaxBytes)
	case "gc.ttlseconds":
		return intField(&z.GCTTLSeconds)
	case "constraints":
		return strField(&z.Constraints)
	case "voter_constraints":
		return strField(&z.VoterConstraints)
	case "lease_preferences":
		return strField(&z.LeasePreferences)
	case "num_voters":
		return pgerror.Unsupported("num_voters: non-voting replicas do not exist yet; every replica votes (use num_replicas)")
	case "global_reads":
		return pgerror.Unsupported("global_reads: global tables do not exist yet")
	}
	return pgerror.Newf("42601", "unsupported zone config parameter: %q", key)
}

// showZoneConfig is SHOW ZONE CONFIGURATION FROM ... (the object's zone,
// every field resolved, under the most specific target that has a zone
// of its own) and SHOW [ALL] ZONE CONFIGURATIONS (every zone set, each
// resolved).
func (s *session) showZoneConfig(b *builder, st *tree.ShowZoneConfig) (*result, error) {
	zones, err := catalog.ListZones(b.ctx, b.txn)
	if err != nil {
		return nil, err
	}
	res := &result{tag: "SHOW ZONE CONFIGURATIONS", cols: showZoneCols}
	if st.ZoneSpecifier != (tree.ZoneSpecifier{}) {
		o, err := s.resolveZoneSpecifier(b, st.ZoneSpecifier)
		if err != nil {
			return nil, err
		}
		z, from := catalog.ResolveZone(zones, o.db, o.table, o.index)
		name, err := s.zoneTargetName(b, from)
		if err != nil {
			return nil, err
		}
		res.rows = append(res.rows, tree.Datums{tree.NewDString(name), tree.NewDString(z.ConfigSQL(name))})
		return res, nil
	}
	tables, err := catalog.ListAllTables(b.ctx, b.txn)
	if err != nil {
		return nil, err
	}
	if _, ok := zones[catalog.DefaultZoneTarget]; !ok {
		zones[catalog.DefaultZoneTarget] = catalog.DefaultZoneConfig()
	}
	tableDB := map[uint32]uint32{}
	for _, t := range tables {
		tableDB[t.ID] = t.ParentID
	}
	for _, t := range catalog.SortedZoneTargets(zones) {
		name, err := s.zoneTargetName(b, t)
		if err != nil {
			return nil, err
		}
		if name == "" {
			continue // its object was dropped
		}
		var z *catalog.ZoneConfig
		switch t.Kind {
		case catalog.ZoneDefault:
			z, _ = catalog.ResolveZone(zones, 0, 0, 0)
		case catalog.ZoneDatabase:
			z, _ = catalog.ResolveZone(zones, t.ID, 0, 0)
		default:
			z, _ = catalog.ResolveZone(zones, tableDB[t.ID], t.ID, t.Index)
		}
		res.rows = append(res.rows, tree.Datums{tree.NewDString(name), tree.NewDString(z.ConfigSQL(name))})
	}
	return res, nil
}

// zoneTargetName names t as SHOW prints it ("" if its object is gone).
func (s *session) zoneTargetName(b *builder, t catalog.ZoneTarget) (string, error) {
	switch t.Kind {
	case catalog.ZoneDefault:
		return "RANGE default", nil
	case catalog.ZoneDatabase:
		dbs, err := catalog.ListDatabases(b.ctx, b.txn)
		if err != nil {
			return "", err
		}
		for _, db := range dbs {
			if db.ID == t.ID {
				return "DATABASE " + tree.NameString(db.Name), nil
			}
		}
		return "", nil
	}
	d, err := catalog.GetTableByID(b.ctx, b.txn, t.ID)
	if err != nil || d == nil {
		return "", err
	}
	if t.Index == 0 {
		return "TABLE " + tree.NameString(d.Name), nil
	}
	idx := d.Name + "_pkey"
	for _, i := range d.Indexes {
		if i.ID == t.Index {
			idx = i.Name
		}
	}
	return fmt.Sprintf("INDEX %s@%s", tree.NameString(d.Name), tree.NameString(idx)), nil
}

// requireSuperuser: zone configurations and cluster settings are the
// operator's (CockroachDB: the admin role).
func (s *session) requireSuperuser(b *builder, what string) error {
	me, err := s.sessionRole(b.ctx, b.txn)
	if err != nil || me == nil || me.Superuser {
		return err
	}
	return insufficient("only superusers may run %s", what)
}
