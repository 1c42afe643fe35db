package sql

import (
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/duration"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// SET CLUSTER SETTING name = value | DEFAULT, SHOW CLUSTER SETTING name
// and SHOW [ALL] CLUSTER SETTINGS, in CockroachDB's syntax, for the knobs
// catalog.Settings lists. The nodes apply a change within their zone
// refresh interval (server/zones.go).

var showSettingsCols = []resultColumn{
	{name: "variable", typ: types.String}, {name: "value", typ: types.String},
	{name: "setting_type", typ: types.String}, {name: "description", typ: types.String},
}

func lookupSetting(name string) (catalog.Setting, error) {
	s, ok := catalog.Settings[strings.ToLower(name)]
	if !ok {
		return catalog.Setting{}, pgerror.Newf("42704", "unknown cluster setting %q (known: %s)", name, strings.Join(catalog.SettingNames(), ", "))
	}
	return s, nil
}

// settingColType is the type SHOW CLUSTER SETTING answers a setting in.
func settingColType(s catalog.Setting) *types.T {
	switch s.Type {
	case catalog.SettingBool:
		return types.Bool
	case catalog.SettingInt:
		return types.Int
	case catalog.SettingFloat:
		return types.Float
	}
	return types.Interval
}

func (s *session) setClusterSetting(b *builder, r *runner, st *tree.SetClusterSetting) (*result, error) {
	if err := s.requireSuperuser(b, "SET CLUSTER SETTING"); err != nil {
		return nil, err
	}
	set, err := lookupSetting(st.Name)
	if err != nil {
		return nil, err
	}
	res := &result{tag: "SET CLUSTER SETTING"}
	if _, ok := st.Value.(tree.DefaultVal); ok || st.Value == nil {
		return res, catalog.ResetSetting(b.ctx, b.txn, set.Name)
	}
	te, err := b.typeCheck(st.Value, &scope{}, settingColType(set))
	if err != nil {
		return nil, err
	}
	v, err := r.evalIn(te, nil)
	if err != nil {
		return nil, err
	}
	var text string
	switch d := v.(type) {
	case *tree.DString:
		text = string(*d)
	case *tree.DInterval:
		text = time.Duration(d.Duration.Nanos() + (d.Duration.Days*24*3600+d.Duration.Months*30*24*3600)*int64(time.Second)).String()
	default:
		text = tree.AsStringWithFlags(v, tree.FmtBareStrings)
	}
	canon, err := catalog.CanonicalSetting(set, text)
	if err != nil {
		return nil, err
	}
	return res, catalog.PutSetting(b.ctx, b.txn, set.Name, canon)
}

// settingValue is a setting's current value as text.
func settingValue(set catalog.Setting, stored map[string]string) string {
	if v, ok := stored[set.Name]; ok {
		return v
	}
	return set.Default
}

func (s *session) showClusterSetting(b *builder, st *tree.ShowClusterSetting) (*result, error) {
	set, err := lookupSetting(st.Name)
	if err != nil {
		return nil, err
	}
	stored, err := catalog.ListSettings(b.ctx, b.txn)
	if err != nil {
		return nil, err
	}
	text := settingValue(set, stored)
	var d tree.Datum
	switch set.Type {
	case catalog.SettingBool:
		d = tree.MakeDBool(tree.DBool(text == "true"))
	case catalog.SettingDuration:
		dur, _ := time.ParseDuration(text)
		d = tree.NewDInterval(duration.MakeDuration(dur.Nanoseconds(), 0, 0), types.DefaultIntervalTypeMetadata)
	case catalog.SettingInt:
		i, _ := strconv.ParseInt(text, 10, 64)
		d = tree.NewDInt(tree.DInt(i))
	default:
		f, _ := strconv.ParseFloat(text, 64)
		d = tree.NewDFloat(tree.DFloat(f))
	}
	return &result{tag: "SHOW", cols: []resultColumn{{name: set.Name, typ: settingColType(set)}}, rows: []tree.Datums{{d}}}, nil
}

func (s *session) showClusterSettings(b *builder) (*result, error) {
	stored, err := catalog.ListSettings(b.ctx, b.txn)
	if err != nil {
		return nil, err
	}
	res := &result{tag: "SHOW", cols: showSettingsCols}
	for _, name := range catalog.SettingNames() {
		set := catalog.Settings[name]
		res.rows = append(res.rows, tree.Datums{tree.NewDString(name), tree.NewDString(settingValue(set, stored)),
			tree.NewDString(set.Type.String()), tree.NewDString(set.Description)})
	}
	return res, nil
}
