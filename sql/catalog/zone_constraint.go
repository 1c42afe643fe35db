package catalog

import (
	"strings"

	"github.com/meridiandb/meridian/sql/pgerror"
)

// Constraint is one locality constraint of a zone: +key=value (the store
// must have that locality tier) or -key=value (it must not).
type Constraint struct {
	Required   bool
	Key, Value string
}

// String prints c as it is written.
func (c Constraint) String() string {
	sign := "-"
	if c.Required {
		sign = "+"
	}
	return sign + c.Key + "=" + c.Value
}

// Locality is a store's locality tiers, looked up by key.
type Locality func(key string) (string, bool)

// Matches reports whether a store of locality loc satisfies c.
func (c Constraint) Matches(loc Locality) bool {
	v, ok := loc(c.Key)
	has := ok && v == c.Value
	return has == c.Required
}

// MatchesAll reports whether loc satisfies every constraint of cs.
func MatchesAll(cs []Constraint, loc Locality) bool {
	for _, c := range cs {
		if !c.Matches(loc) {
			return false
		}
	}
	return true
}

func parseConstraint(s string) (Constraint, error) {
	s = strings.TrimSpace(s)
	s = strings.Trim(s, `"`)
	if s == "" {
		return Constraint{}, pgerror.New("22023", "empty constraint")
	}
	var c Constraint
	switch s[0] {
	case '+':
		c.Required = true
	case '-':
	default:
		return Constraint{}, pgerror.Newf("22023", "constraint %q must start with + (required) or - (prohibited)", s)
	}
	k, v, ok := strings.Cut(s[1:], "=")
	if !ok {
		return Constraint{}, pgerror.Newf("0A000", "constraint %q: store attributes are not supported; constrain localities as key=value", s)
	}
	c.Key, c.Value = strings.TrimSpace(k), strings.TrimSpace(v)
	if c.Key == "" || c.Value == "" {
		return Constraint{}, pgerror.Newf("22023", "constraint %q: key and value must not be empty", s)
	}
	return c, nil
}

// ParseConstraints parses a zone's constraints in CockroachDB's list
// form, '[+region=us-east1, -zone=b]': constraints every replica obeys.
// The per-replica-count form ('{"+region=a": 1}') is not supported.
func ParseConstraints(s string) ([]Constraint, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "{") {
		return nil, pgerror.New("0A000", `constraints with replica counts ('{"+region=a": 1}') are not supported: use the list form '[+region=a]'`)
	}
	if !strings.HasPrefix(s, "[") || !strings.HasSuffix(s, "]") {
		return nil, pgerror.Newf("22023", "constraints %q: want a list such as '[+region=a, -zone=b]'", s)
	}
	inner := strings.TrimSpace(s[1 : len(s)-1])
	if inner == "" {
		return nil, nil
	}
	var out []Constraint
	for _, part := range strings.Split(inner, ",") {
		c, err := parseConstraint(part)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// ParseLeasePreferences parses lease_preferences, '[[+region=a], [+region=b]]':
// a list of constraint lists, most preferred first.
func ParseLeasePreferences(s string) ([][]Constraint, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "[") || !strings.HasSuffix(s, "]") {
		return nil, pgerror.Newf("22023", "lease_preferences %q: want a list of lists such as '[[+region=a], [+region=b]]'", s)
	}
	inner := strings.TrimSpace(s[1 : len(s)-1])
	var out [][]Constraint
	for inner != "" {
		if inner[0] != '[' {
			return nil, pgerror.Newf("22023", "lease_preferences %q: each preference is a list such as [+region=a]", s)
		}
		end := strings.IndexByte(inner, ']')
		if end < 0 {
			return nil, pgerror.Newf("22023", "lease_preferences %q: unbalanced brackets", s)
		}
		cs, err := ParseConstraints(inner[:end+1])
		if err != nil {
			return nil, err
		}
		if len(cs) == 0 {
			return nil, pgerror.Newf("22023", "lease_preferences %q: a preference must have constraints", s)
		}
		out = append(out, cs)
		inner = strings.TrimSpace(inner[end+1:])
		inner = strings.TrimSpace(strings.TrimPrefix(inner, ","))
	}
	return out, nil
}

// Placement is a resolved zone's placement rules, parsed.
type Placement struct {
	NumReplicas      int
	Constraints      []Constraint
	VoterConstraints []Constraint
	LeasePreferences [][]Constraint
}

// Placement parses z's placement fields; z must be resolved (every field
// set) and validated.
func (z *ZoneConfig) Placement() Placement {
	p := Placement{NumReplicas: int(*z.NumReplicas)}
	if z.Constraints != nil {
		p.Constraints, _ = ParseConstraints(*z.Constraints)
	}
	if z.VoterConstraints != nil {
		p.VoterConstraints, _ = ParseConstraints(*z.VoterConstraints)
	}
	if z.LeasePreferences != nil {
		p.LeasePreferences, _ = ParseLeasePreferences(*z.LeasePreferences)
	}
	return p
}

// VoterOK reports whether a store of locality loc may hold a voter.
func (p Placement) VoterOK(loc Locality) bool {
	return MatchesAll(p.Constraints, loc) && MatchesAll(p.VoterConstraints, loc)
}

// LeaseRank is the index of the first lease preference loc satisfies,
// len(LeasePreferences) if none (no preferences: 0 for every store).
func (p Placement) LeaseRank(loc Locality) int {
	for i, pref := range p.LeasePreferences {
		if MatchesAll(pref, loc) {
			return i
		}
	}
	return len(p.LeasePreferences)
}
