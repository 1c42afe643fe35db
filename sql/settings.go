package sql

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/timeutil/pgdate"
	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/pgwire"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/pgformat"
	"github.com/meridiandb/meridian/sql/sem"
)

// Session settings (SET, SHOW, RESET, current_setting, set_config), as
// PostgreSQL has them: a setting a session may change is declared in
// settingDefs with its default and the values Meridian honours; a value it
// would not honour is refused (0A000), never stored and ignored. A change
// inside a transaction (block or implicit) is undone if it rolls back, and
// SET LOCAL lasts until the transaction ends. Names with a dot are custom
// settings, stored as given, as PostgreSQL does.

// fixedSettings describe the server; PostgreSQL refuses to SET them too.
var fixedSettings = map[string]string{
	"server_version":        "15.0.0",
	"server_version_num":    "150000",
	"server_encoding":       "UTF8",
	"integer_datetimes":     "on",
	"is_superuser":          "on",
	"max_identifier_length": "63",
	"lc_collate":            "C",
	"lc_ctype":              "C",
}

// settingDef is a setting a session may change.
type settingDef struct {
	// def is the value a session starts with and RESET goes back to, as
	// SHOW prints it.
	def string
	// parse checks a value and returns it as SHOW prints it. A value
	// PostgreSQL refuses fails as there (22023); one Meridian does not
	// honour fails with 0A000.
	parse func(name, val string) (string, error)
	// reported is the name under which a change is reported to the
	// client (ParameterStatus); empty: not reported.
	reported string
	// noStore: the value is checked but not kept (SHOW prints def).
	noStore bool
	// parseOver, when set, is parse for a setting whose value may name
	// only part of it (DateStyle 'DMY' keeps the style there was): cur
	// is the value before.
	parseOver func(cur, val string) (string, error)
}

var settingDefs = map[string]settingDef{
	// role is SET ROLE's (privilege_set_role.go checks it first).
	"role":             {def: "none", parse: anyValue},
	"application_name": {def: "", parse: anyValue, reported: "application_name"},
	"client_encoding": {def: "UTF8", reported: "client_encoding", parse: func(name, val string) (string, error) {
		if u := strings.ToUpper(strings.ReplaceAll(val, "-", "")); u != "UTF8" && u != "UNICODE" {
			return "", pgerror.Unsupported("client encoding %q is not supported: only UTF8 is", val)
		}
		return "UTF8", nil
	}},
	"datestyle":     {def: "ISO, MDY", reported: "DateStyle", parseOver: parseDateStyle},
	"intervalstyle": {def: "postgres", reported: "IntervalStyle", parse: oneOf("intervals are written in the postgres style only", "postgres")},
	"timezone": {def: "UTC", reported: "TimeZone", parse: func(name, val string) (string, error) {
		v := strings.TrimSpace(val)
		switch strings.ToUpper(v) {
		case "LOCAL", "DEFAULT":
			return "UTC", nil // the server's zone, which is UTC
		}
		if _, err := sem.ParseZone(v); err != nil {
			return "", invalidValue("TimeZone", val)
		}
		return v, nil
	}},
	// Both are read by the lexer walk of string_literals.go: off, a
	// backslash in '...' is an escape, and such a literal is warned of.
	"standard_conforming_strings": {def: "on", reported: "standard_conforming_strings", parse: boolSetting},
	"escape_string_warning":       {def: "on", parse: boolSetting},
	"extra_float_digits": {def: "1", parse: func(name, val string) (string, error) {
		n, err := intSetting(name, val, -15, 3)
		if err != nil {
			return "", err
		}
		if n < 1 {
			return "", pgerror.Unsupported("extra_float_digits below 1 is not supported: floats are always written in their shortest exact form (extra_float_digits 1 to 3)")
		}
		return strconv.Itoa(n), nil
	}},
	"client_min_messages": {def: "notice", parse: enumSetting("debug5", "debug4", "debug3", "debug2", "debug1", "log", "notice", "warning", "error")},
	"search_path": {def: `"$user", public`, parse: func(name, val string) (string, error) {
		if strings.TrimSpace(val) == "" {
			return `""`, nil
		}
		return val, nil
	}},
	"bytea_output":                        {def: "hex", parse: enumSetting("escape", "hex")},
	"statement_timeout":                   {def: "0", parse: durationSetting},
	"idle_in_transaction_session_timeout": {def: "0", parse: durationSetting},
	"idle_session_timeout":                {def: "0", parse: durationSetting},
	// Each wait of a statement for another transaction's lock, in the
	// ranges' lock tables (kvapi.LockWaiter).
	"lock_timeout":                  {def: "0", parse: durationSetting},
	"transaction_isolation":         {def: "serializable", parse: isolationSetting, noStore: true},
	"default_transaction_isolation": {def: "serializable", parse: isolationSetting, noStore: true},
	"transaction_read_only":         {def: "off", parse: boolSetting, noStore: true}, // the block's mode (txn_modes.go)
	"default_transaction_read_only": {def: "off", parse: boolSetting},
	// What pg_dump sets before its output: values that change nothing
	// here, the only ones accepted.
	"check_function_bodies":       {def: "on", parse: boolSetting},
	"row_security":                {def: "on", parse: boolSetting},
	"default_tablespace":          {def: "", parse: oneOf("tablespaces are not supported", "")},
	"default_table_access_method": {def: "heap", parse: oneOf("table access methods are not supported", "heap")},
	"synchronous_commit":          {def: "on", parse: synchronousCommit},
}

// synchronousCommit reads synchronous_commit as PostgreSQL does (its
// values, and the hidden boolean spellings of on and off). A commit here
// is acknowledged once Raft has made it durable on a quorum of replicas,
// after which every read anywhere sees it: what on, remote_write and
// remote_apply each ask for, or more. off and local would acknowledge a
// commit before that, which Meridian never does, so they are refused
// rather than ignored.
func synchronousCommit(name, val string) (string, error) {
	v := strings.ToLower(val)
	switch v {
	case "true", "yes", "1":
		v = "on"
	case "false", "no", "0":
		v = "off"
	}
	switch v {
	case "on", "remote_write", "remote_apply":
		return v, nil
	case "off", "local":
		return "", pgerror.Unsupported("synchronous_commit = %s is not supported: a commit is acknowledged only once Raft has made it durable on a quorum of replicas", v)
	}
	return "", pgerror.WithHint(invalidValue(name, val), "Available values: local, remote_write, remote_apply, on, off.")
}

func anyValue(name, val string) (string, error) { return val, nil }

// parseDateStyle reads a DateStyle value over the current one, and
// returns it as SHOW prints it ("Postgres, MDY").
func parseDateStyle(cur, val string) (string, error) {
	c, _ := pgformat.ParseDateStyle(cur, pgdate.DefaultDateStyle())
	ds, err := pgformat.ParseDateStyle(val, c)
	if err != nil {
		var bad *pgformat.DateStyleError
		if errors.As(err, &bad) {
			return "", pgerror.WithDetail(invalidValue("DateStyle", val), bad.Detail)
		}
		return "", err
	}
	return pgformat.DateStyleString(ds), nil
}

// dateStyleSetting is the session's DateStyle.
func (s *session) dateStyleSetting() pgdate.DateStyle {
	v, _ := s.setting("datestyle")
	if v != s.dateStyleName {
		s.dateStyle, _ = pgformat.ParseDateStyle(v, pgdate.DefaultDateStyle()) // checked when set
		s.dateStyleName = v
	}
	return s.dateStyle
}

func invalidValue(name, val string) error {
	return pgerror.Newf(pgerror.CodeInvalidParameterValue, "invalid value for parameter %q: %q", name, val)
}

// oneOf accepts only the given values (case-insensitively); another one
// that PostgreSQL takes is unsupported, for the reason given.
func oneOf(why string, vals ...string) func(name, val string) (string, error) {
	return func(name, val string) (string, error) {
		for _, v := range vals {
			if strings.EqualFold(v, val) {
				return v, nil
			}
		}
		return "", pgerror.Unsupported("%s = %q is not supported: %s", name, val, why)
	}
}

func enumSetting(vals ...string) func(name, val string) (string, error) {
	return func(name, val string) (string, error) {
		for _, v := range vals {
			if strings.EqualFold(v, val) {
				return v, nil
			}
		}
		return "", pgerror.WithHint(invalidValue(name, val), "Available values: "+strings.Join(vals, ", ")+".")
	}
}

// parseBool reads a boolean setting as PostgreSQL does.
func parseBool(val string) (bool, bool) {
	switch strings.ToLower(val) {
	case "on", "true", "yes", "1", "t", "y":
		return true, true
	case "off", "false", "no", "0", "f", "n":
		return false, true
	}
	return false, false
}

func boolSetting(name, val string) (string, error) {
	b, ok := parseBool(val)
	if !ok {
		return "", pgerror.Newf(pgerror.CodeInvalidParameterValue, "parameter %q requires a Boolean value", name)
	}
	if b {
		return "on", nil
	}
	return "off", nil
}

func isolationSetting(name, val string) (string, error) {
	// Every transaction is serializable; asking for a weaker level gets
	// serializable, which gives every guarantee the weaker ones do
	// (CockroachDB does the same).
	switch strings.ToLower(val) {
	case "serializable", "repeatable read", "read committed", "read uncommitted", "default":
		return "serializable", nil
	}
	return "", invalidValue(name, val)
}

func intSetting(name, val string, lo, hi int) (int, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
	if err != nil {
		return 0, pgerror.Newf(pgerror.CodeInvalidParameterValue, "invalid value for parameter %q: %q", name, val)
	}
	n := int(math.RoundToEven(f))
	if n < lo || n > hi {
		return 0, pgerror.Newf(pgerror.CodeInvalidParameterValue, "%d is outside the valid range for parameter %q (%d .. %d)", n, name, lo, hi)
	}
	return n, nil
}

// timeUnits are PostgreSQL's units for a time setting, in milliseconds,
// largest first (SHOW uses the largest that divides the value).
var timeUnits = []struct {
	name string
	ms   float64
}{{"d", 86400000}, {"h", 3600000}, {"min", 60000}, {"s", 1000}, {"ms", 1}, {"us", 0.001}}

// durationSetting reads a time setting in milliseconds, as PostgreSQL
// does: a number (milliseconds) or a number with a unit ('100ms', '1.5s',
// '1min'); 0 turns it off. It returns the value as SHOW prints it.
func durationSetting(name, val string) (string, error) {
	v := strings.TrimSpace(val)
	i := len(v)
	for i > 0 && (v[i-1] < '0' || v[i-1] > '9') && v[i-1] != '.' {
		i--
	}
	num, unit := strings.TrimSpace(v[:i]), strings.TrimSpace(v[i:])
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return "", invalidValue(name, val)
	}
	if unit != "" {
		found := false
		for _, u := range timeUnits {
			if u.name == unit {
				f, found = f*u.ms, true
				break
			}
		}
		if !found {
			return "", pgerror.WithHint(invalidValue(name, val), `Valid units for this parameter are "us", "ms", "s", "min", "h", and "d".`)
		}
	}
	ms := math.RoundToEven(f)
	if ms < 0 || ms > math.MaxInt32 {
		return "", pgerror.Newf(pgerror.CodeInvalidParameterValue,
			"%v ms is outside the valid range for parameter %q (0 .. 2147483647)", ms, name)
	}
	return formatMillis(int64(ms)), nil
}

func formatMillis(ms int64) string {
	if ms == 0 {
		return "0"
	}
	for _, u := range timeUnits[:5] {
		if ms%int64(u.ms) == 0 {
			return fmt.Sprintf("%d%s", ms/int64(u.ms), u.name)
		}
	}
	return fmt.Sprintf("%dms", ms)
}

// duration reads a time setting as SHOW prints it (0: off).
func (s *session) duration(name string) time.Duration {
	v, err := s.setting(name)
	if err != nil || v == "0" {
		return 0
	}
	for _, u := range timeUnits[:5] {
		if n, ok := strings.CutSuffix(v, u.name); ok {
			if k, err := strconv.ParseInt(n, 10, 64); err == nil {
				return time.Duration(k) * time.Duration(u.ms) * time.Millisecond
			}
		}
	}
	return 0
}

// setting is a setting's current value.
func (s *session) setting(name string) (string, error) {
	switch {
	case name == "session_authorization":
		return s.user, nil
	case name == "transaction_read_only":
		return map[bool]string{true: "on", false: "off"}[s.readOnlyNow()], nil
	case name == "server_version" && s.serverVersion != "":
		return s.serverVersion, nil
	}
	if v, ok := s.settings[name]; ok {
		return v, nil
	}
	if d, ok := settingDefs[name]; ok {
		return d.def, nil
	}
	if v, ok := fixedSettings[name]; ok {
		return v, nil
	}
	return "", pgerror.Newf("42704", "unrecognized configuration parameter %q", name)
}

// showAll is SHOW ALL: every setting, by name.
func (s *session) showAll() *result {
	seen := map[string]bool{"session_authorization": true}
	for _, m := range []map[string]string{s.settings, fixedSettings} {
		for n := range m {
			seen[n] = true
		}
	}
	for n := range settingDefs {
		seen[n] = true
	}
	delete(seen, "role") // as PostgreSQL's SHOW ALL, which leaves it out
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	res := &result{cols: []resultColumn{{name: "name", typ: types.String}, {name: "setting", typ: types.String}, {name: "description", typ: types.String}}, tag: "SHOW"}
	for _, n := range names {
		v, _ := s.setting(n)
		res.rows = append(res.rows, tree.Datums{tree.NewDString(n), tree.NewDString(v), tree.NewDString("")})
	}
	return res
}

// canonicalSetting is the name a setting is known by.
func canonicalSetting(name string) string {
	name = strings.ToLower(name)
	if name == "time zone" {
		return "timezone"
	}
	return name
}

// setVar runs SET, SET LOCAL and RESET.
func (s *session) setVar(st *tree.SetVar) (*result, error) {
	res := &result{tag: "SET"}
	if st.ResetAll {
		res.tag = "RESET"
		for name := range s.settings {
			if name == "role" {
				continue // as in PostgreSQL, RESET ALL leaves the role
			}
			if _, err := s.set(name, "", false, true); err != nil {
				return nil, err
			}
		}
		return res, nil
	}
	name := canonicalSetting(st.Name)
	var vals []string
	reset := st.Reset
	for _, e := range st.Values {
		switch v := e.(type) {
		case tree.DefaultVal:
			reset = true
		case *tree.StrVal:
			vals = append(vals, v.RawString())
		case *tree.UnresolvedName:
			vals = append(vals, v.Parts[0])
		default:
			vals = append(vals, tree.AsStringWithFlags(e, tree.FmtBareStrings))
		}
	}
	if st.Reset {
		res.tag = "RESET"
	}
	if st.Local && !s.inTxn() {
		// As in PostgreSQL: the transaction it would last for ends now.
		if _, err := s.check(name, strings.Join(vals, ", "), reset); err != nil {
			return nil, err
		}
		res.notices = []notice{{pgerror.SeverityWarning, pgerror.CodeNoActiveSQLTransaction, "SET LOCAL can only be used in transaction blocks", ""}}
		return res, nil
	}
	if name == "transaction_read_only" {
		v, err := s.check(name, strings.Join(vals, ", "), reset)
		if err != nil {
			return nil, err
		}
		if s.txn == nil || s.implicit {
			return res, nil // the statement is its own transaction: nothing to change
		}
		if v == "on" {
			s.txnReadOnly = true
			return res, nil
		}
		return res, s.setReadWrite()
	}
	v, err := s.set(name, strings.Join(vals, ", "), st.Local, reset)
	if err != nil {
		return nil, err
	}
	if reported := settingDefs[name].reported; reported != "" {
		res.paramStatus = [][2]string{{reported, v}}
	}
	return res, nil
}

// check checks a setting's new value (reset: its default) and returns it
// as SHOW prints it.
func (s *session) check(name, val string, reset bool) (string, error) {
	if name == "role" && !s.settingRole && !reset {
		// Only SET ROLE checks that the session may take the role.
		return "", pgerror.Unsupported("setting role other than by SET ROLE (set_config, startup options) is not supported")
	}
	if _, ok := fixedSettings[name]; ok || name == "session_authorization" {
		if cur, _ := s.setting(name); reset || !strings.EqualFold(cur, val) {
			return "", pgerror.Newf("55P02", "parameter %q cannot be changed", name)
		}
		return val, nil
	}
	d, known := settingDefs[name]
	if !known {
		if !strings.Contains(name, ".") {
			return "", pgerror.Newf("42704", "unrecognized configuration parameter %q", name)
		}
		// A custom setting (myapp.user_id), as PostgreSQL keeps them.
		return val, nil
	}
	if reset {
		return d.def, nil
	}
	if d.parseOver != nil {
		cur, _ := s.setting(name)
		return d.parseOver(cur, val)
	}
	return d.parse(name, val)
}

// set changes a setting (reset: back to its default) for the session, or
// with local until the transaction ends, and returns its new value.
func (s *session) set(name, val string, local, reset bool) (string, error) {
	v, err := s.check(name, val, reset)
	if err != nil {
		return "", err
	}
	d, known := settingDefs[name]
	if known && d.noStore {
		return d.def, nil
	}
	if s.inTxn() {
		cur, had := s.settings[name]
		if _, ok := s.undoOnRollback[name]; !ok {
			s.undoOnRollback[name] = savedSetting{cur, had}
		}
		if local {
			if _, ok := s.undoOnCommit[name]; !ok {
				s.undoOnCommit[name] = savedSetting{cur, had}
			}
		} else {
			delete(s.undoOnCommit, name)
		}
	}
	if reset && known {
		delete(s.settings, name)
	} else {
		s.settings[name] = v
	}
	s.settingsGen++
	return v, nil
}

// ChangedParameters implements pgwire.ParameterReporter: the reported
// settings that the end of a transaction changed back.
func (s *session) ChangedParameters() [][2]string {
	ch := s.changedParams
	s.changedParams = nil
	return ch
}

// savedSetting is a setting's value before a transaction changed it
// (set: false when it had its default).
type savedSetting struct {
	val string
	set bool
}

// inTxn reports whether a SET now is part of a transaction that may still
// roll back: a block, or the implicit transaction of a pipeline or query
// string.
func (s *session) inTxn() bool { return s.txn != nil || s.pipelined }

// endTxnSettings ends the transaction's changes to settings: at a commit
// those of SET LOCAL are undone, at a rollback all of them.
func (s *session) endTxnSettings(commit bool) {
	// LISTEN and UNLISTEN are settings of a sort: they too take effect
	// at the commit.
	s.endTxnListens(commit)
	undo := s.undoOnRollback
	if commit {
		undo = s.undoOnCommit
	}
	for name, v := range undo {
		before, _ := s.setting(name)
		if v.set {
			s.settings[name] = v.val
		} else {
			delete(s.settings, name)
		}
		s.settingsGen++
		if reported := settingDefs[name].reported; reported != "" {
			if after, _ := s.setting(name); after != before {
				s.changedParams = append(s.changedParams, [2]string{reported, after})
			}
		}
	}
	clear(s.undoOnRollback)
	clear(s.undoOnCommit)
}

// applyStartupParams applies the settings a client sent at startup: its
// startup parameters, and the "-c name=value" (or "--name=value") pairs
// of its options parameter, as PostgreSQL does. A startup parameter with
// a value PostgreSQL takes but Meridian does not (a time zone other than
// UTC, from a driver that sends the client machine's) leaves the default
// and warns the client, so that drivers still connect; an unknown name or
// an invalid value fails, and so does anything the user asked for in
// options.
func (s *session) applyStartupParams(params map[string]string, warn func(pgerror.Code, string)) error {
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		switch k {
		case "user", "database", "options", "replication":
			continue
		}
		if _, err := s.set(canonicalSetting(k), params[k], false, false); err != nil {
			if pgerror.CodeOf(err) != pgerror.CodeFeatureNotSupported || warn == nil {
				return err
			}
			v, _ := s.setting(canonicalSetting(k))
			warn(pgerror.CodeFeatureNotSupported, fmt.Sprintf("startup parameter %s: %v; the session uses %s", k, err, v))
		}
	}
	opts, err := parseOptions(params["options"])
	if err != nil {
		return err
	}
	for _, kv := range opts {
		if _, err := s.set(canonicalSetting(kv[0]), kv[1], false, false); err != nil {
			return err
		}
	}
	return nil
}

// parseOptions reads a startup options parameter: words separated by
// spaces (a backslash escapes the next character), each "-c name=value"
// pair or "--name=value" setting one parameter.
func parseOptions(opts string) ([][2]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(opts); i++ {
		switch c := opts[i]; {
		case c == '\\' && i+1 < len(opts):
			i++
			cur.WriteByte(opts[i])
			inWord = true
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	var out [][2]string
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch {
		case w == "-c" && i+1 < len(words):
			i++
			w = words[i]
		case strings.HasPrefix(w, "-c"):
			w = w[2:]
		case strings.HasPrefix(w, "--"):
			w = w[2:]
		default:
			return nil, pgerror.Newf(pgerror.CodeFeatureNotSupported,
				"startup option %q is not supported: only -c name=value and --name=value are", w)
		}
		name, val, ok := strings.Cut(w, "=")
		if !ok {
			return nil, pgerror.Newf(pgerror.CodeSyntaxError, "-c %s requires a value", name)
		}
		out = append(out, [2]string{strings.ReplaceAll(name, "-", "_"), val})
	}
	return out, nil
}

// errStatementTimeout is the cause of a statement's context ended by
// statement_timeout.
var errStatementTimeout = errors.New("statement timeout")

// statementContext bounds a statement by statement_timeout: the context
// it runs under ends when the time is up, and done turns the statement's
// error into PostgreSQL's 57014 if that is why it failed.
func (s *session) statementContext(ctx context.Context) (_ context.Context, done func(error) error) {
	d := s.duration("statement_timeout")
	if d <= 0 {
		return ctx, func(err error) error { return err }
	}
	tctx, cancel := context.WithTimeoutCause(ctx, d, errStatementTimeout)
	deadline, _ := tctx.Deadline()
	return tctx, func(err error) error {
		// The error may come back before this context's own timer fires:
		// a remote node's copy of the deadline (gRPC carries it) can end
		// the wait there first. Past the deadline, the timeout is why.
		timedOut := errors.Is(context.Cause(tctx), errStatementTimeout) || !hlc.PhysicalNow().Before(deadline)
		cancel()
		if err != nil && timedOut && ctx.Err() == nil {
			return pgerror.New(pgerror.CodeQueryCanceled, "canceling statement due to statement timeout")
		}
		return err
	}
}

// IdleTimeout implements pgwire.Session.
// The error is made only when there is a timeout: it is asked for before
// every message, and an error with its stack cost 4% of a prepared point
// select's CPU.
func (s *session) IdleTimeout() (time.Duration, error) {
	if s.status != pgwire.TxnIdle {
		if d := s.duration("idle_in_transaction_session_timeout"); d > 0 {
			return d, pgerror.New("25P03", "terminating connection due to idle-in-transaction timeout")
		}
		return 0, nil
	}
	if d := s.duration("idle_session_timeout"); d > 0 {
		return d, pgerror.New("57P05", "terminating connection due to idle-session timeout")
	}
	return 0, nil
}

// outStyle is how the session writes values as text (pgformat.Style).
func (s *session) outStyle() pgformat.Style {
	return pgformat.Style{Loc: s.location(), DateStyle: s.dateStyleSetting(), ByteaEscape: s.byteaEscape()}
}

// byteaEscape: bytea_output is escape.
func (s *session) byteaEscape() bool {
	v, _ := s.setting("bytea_output")
	return v == "escape"
}

// location is the session's TimeZone, where timestamptz values are read,
// shown and taken apart.
func (s *session) location() *time.Location {
	name, _ := s.setting("timezone")
	if s.loc != nil && s.locName == name {
		return s.loc
	}
	loc, err := sem.ParseZone(name)
	if err != nil {
		loc = time.UTC // the setting was checked when set
	}
	s.loc, s.locName = loc, name
	return loc
}
