package sql

import (
	"context"
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/kvapi"
)

// setRole is SET [LOCAL] ROLE name | NONE and RESET ROLE, as PostgreSQL
// 15: the session's statements then run as (and are checked as) name,
// which the session's user must be a member of unless it is a
// superuser. current_user follows it; session_user does not. Like any
// setting, a SET ROLE in a transaction that rolls back is undone.
func (s *session) setRole(ctx context.Context, st *tree.SetVar) (*result, error) {
	name := "none"
	if !st.Reset && len(st.Values) == 1 {
		switch v := st.Values[0].(type) {
		case *tree.StrVal:
			name = v.RawString()
		case *tree.UnresolvedName:
			name = v.Parts[0]
		case tree.DefaultVal:
		default:
			name = tree.AsStringWithFlags(v, tree.FmtBareStrings)
		}
	}
	if strings.EqualFold(name, "none") {
		name = "none"
	} else {
		err := s.withTxn(ctx, true, func(txn kvapi.Txn) error {
			target, err := catalog.MustGetRole(ctx, txn, name)
			if err != nil {
				return err
			}
			me, err := catalog.GetRole(ctx, txn, s.user)
			if err != nil || me == nil || me.Superuser {
				return err
			}
			ms, err := catalog.ListMemberships(ctx, txn)
			if err != nil {
				return err
			}
			if !memberOf(ms, me.ID, target.ID) {
				return insufficient("permission denied to set role %q", name)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	vals := tree.Exprs{tree.NewStrVal(name)}
	if name == "none" {
		vals = tree.Exprs{tree.DefaultVal{}}
	}
	s.settingRole = true
	defer func() { s.settingRole = false }()
	return s.setVar(&tree.SetVar{Name: "role", Local: st.Local, Values: vals, Reset: st.Reset})
}
