package sql

import "testing"

// TestSizePretty checks pg_size_pretty against what PostgreSQL 15 prints
// for the same inputs.
func TestSizePretty(t *testing.T) {
	for _, c := range []struct {
		n    int64
		want string
	}{
		{0, "0 bytes"}, {10239, "10239 bytes"}, {10240, "10 kB"}, {1048575, "1024 kB"},
		{10485760, "10 MB"}, {123456789012, "115 GB"}, {-20000, "-20 kB"}, {9999999999999999, "9095 TB"},
	} {
		if got := sizePretty(c.n); got != c.want {
			t.Errorf("sizePretty(%d) = %q, want %q", c.n, got, c.want)
		}
	}
}
