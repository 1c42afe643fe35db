package clients

import (
	"strings"
	"testing"
	"time"
)

// TestPsycopg2 runs testdata/psycopg2/smoke.py under Debian's Python with
// Debian's python3-psycopg2 (libpq underneath).
func TestPsycopg2(t *testing.T) {
	const python = "/usr/bin/python3"
	requireFile(t, python, "Debian's python3")
	if out, err := runOut(10*time.Second, "", nil, python, "-c", "import psycopg2"); err != nil {
		missing(t, "psycopg2 is not importable by "+python+" (Debian's python3-psycopg2; .ci/run installs it): "+out)
	}
	url := newDatabase(t, "psycopg2_smoke")
	out := run(t, 30*time.Second, "", nil, python, "testdata/psycopg2/smoke.py", url)
	if !strings.Contains(out, "psycopg2 smoke ok") {
		t.Fatalf("smoke.py did not finish:\n%s", out)
	}
}
