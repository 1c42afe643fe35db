package catalog

import (
	"bytes"
	"testing"

	"github.com/meridiandb/meridian/kv/encoding"
)

// TestZoneResolution: fields inherit one by one, index → table →
// database → default; a key resolves by its table and index; a range
// splits where its zone changes, and nowhere else.
func TestZoneResolution(t *testing.T) {
	i := func(v int64) *int64 { return &v }
	s := func(v string) *string { return &v }
	zs := &ZoneSet{
		Zones: map[ZoneTarget]*ZoneConfig{
			{Kind: ZoneDatabase, ID: 5}:           {GCTTLSeconds: i(60)},
			{Kind: ZoneTable, ID: 101}:            {NumReplicas: i(5), Constraints: s("[+region=b]")},
			{Kind: ZoneTable, ID: 101, Index: 2}:  {LeasePreferences: s("[[+zone=b2]]")},
			{Kind: ZoneTable, ID: 103, Index: 0}:  {RangeMaxBytes: i(1 << 20)},
			{Kind: ZoneDatabase, ID: 6, Index: 0}: {NumReplicas: i(1)},
			{Kind: ZoneTable, ID: 999, Index: 0}:  {NumReplicas: i(7)}, // a dropped table's
			{Kind: ZoneDefault}:                   {NumReplicas: i(3)},
		},
		TableDB: map[uint32]uint32{100: 5, 101: 5, 102: 5, 103: 6},
		Tables:  []uint32{100, 101, 102, 103},
	}
	z, from := zs.Resolve(101, 2)
	if *z.NumReplicas != 5 || *z.Constraints != "[+region=b]" || *z.LeasePreferences != "[[+zone=b2]]" || *z.GCTTLSeconds != 60 ||
		*z.RangeMaxBytes != DefaultRangeMaxBytes || from != (ZoneTarget{Kind: ZoneTable, ID: 101, Index: 2}) {
		t.Fatalf("index 2 of table 101: %s from %v", z.ConfigSQL("x"), from)
	}
	if z, from := zs.Resolve(100, 0); *z.NumReplicas != 3 || *z.GCTTLSeconds != 60 || from != (ZoneTarget{Kind: ZoneDatabase, ID: 5}) {
		t.Fatalf("table 100: %s from %v", z.ConfigSQL("x"), from)
	}
	if z := zs.ForKey([]byte{0x04, 'd'}); *z.NumReplicas != 3 {
		t.Fatalf("a system key: %s", z.ConfigSQL("x"))
	}
	tbl := func(id uint64, idx ...uint64) []byte {
		k := encoding.EncodeUvarintAscending(nil, id)
		for _, x := range idx {
			k = encoding.EncodeUvarintAscending(k, x)
		}
		return k
	}
	if z := zs.ForKey(tbl(101, 2, 7)); *z.LeasePreferences != "[[+zone=b2]]" {
		t.Fatalf("a key of index 2: %s", z.ConfigSQL("x"))
	}
	for _, tc := range []struct {
		start, end, want []byte
	}{
		{nil, nil, tbl(100)},            // the system keys are RANGE default's, table 100 database 5's
		{tbl(100), tbl(101), nil},       // table 100 alone
		{tbl(101), nil, tbl(101, 2)},    // index 2 has its own
		{tbl(101, 2), nil, tbl(101, 3)}, // and ends
		{tbl(101, 3), nil, tbl(102)},    // table 102 is table 100's zone
		{tbl(102), nil, tbl(103)},       // table 103 is database 6's
		{tbl(103), nil, tbl(104)},       // after 103, the default
		{tbl(104), tbl(200), nil},       // the default to the end
	} {
		got := zs.SplitKeyIn(tc.start, tc.end)
		if !bytes.Equal(got, tc.want) {
			t.Errorf("SplitKeyIn(%x, %x) = %x, want %x", tc.start, tc.end, got, tc.want)
		}
	}
}

// TestZoneConstraintParsing parses the list forms and matches localities.
func TestZoneConstraintParsing(t *testing.T) {
	loc := func(kv ...string) Locality {
		return func(k string) (string, bool) {
			for i := 0; i < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1], true
				}
			}
			return "", false
		}
	}
	cs, err := ParseConstraints("[+region=b, -zone=b1]")
	if err != nil || len(cs) != 2 {
		t.Fatal(cs, err)
	}
	if !MatchesAll(cs, loc("region", "b", "zone", "b2")) || MatchesAll(cs, loc("region", "b", "zone", "b1")) || MatchesAll(cs, loc("region", "a")) {
		t.Fatal("constraint matching")
	}
	prefs, err := ParseLeasePreferences("[[+region=b, +zone=b2], [+region=b]]")
	if err != nil || len(prefs) != 2 || len(prefs[0]) != 2 {
		t.Fatal(prefs, err)
	}
	p := Placement{LeasePreferences: prefs}
	if p.LeaseRank(loc("region", "b", "zone", "b2")) != 0 || p.LeaseRank(loc("region", "b", "zone", "b1")) != 1 || p.LeaseRank(loc("region", "a")) != 2 {
		t.Fatal("lease ranks")
	}
	for _, bad := range []string{"+region=b", "[region=b]", "[+ssd]", `{"+region=b": 1}`} {
		if _, err := ParseConstraints(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
