package clients

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestNodePostgres runs testdata/node/smoke.js with node-postgres (npm
// pg, pinned in package.json and package-lock.json; .ci/run installs it
// with npm ci into testdata/node/node_modules).
func TestNodePostgres(t *testing.T) {
	node := requireTool(t, "node", "Debian's nodejs; .ci/run installs it")
	requireFile(t, filepath.Join("testdata", "node", "node_modules", "pg", "package.json"), "npm pg; .ci/run runs npm ci in clients/testdata/node")
	url := newDatabase(t, "node_smoke")
	out := run(t, 30*time.Second, "testdata/node", nil, node, "smoke.js", url)
	if !strings.Contains(out, "node-postgres smoke ok") {
		t.Fatalf("smoke.js did not finish:\n%s", out)
	}
}
