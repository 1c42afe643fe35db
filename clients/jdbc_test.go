package clients

import (
	"strings"
	"testing"
	"time"
)

// TestJDBC runs testdata/jdbc/JdbcSmoke.java with Java's single-file
// source launcher and Debian's PgJDBC (libpostgresql-jdbc-java).
func TestJDBC(t *testing.T) {
	java := requireTool(t, "java", "Debian's default-jdk-headless; .ci/run installs it")
	const jar = "/usr/share/java/postgresql.jar"
	requireFile(t, jar, "Debian's libpostgresql-jdbc-java; .ci/run installs it")
	url := newDatabase(t, "jdbc_smoke")
	jdbcURL := "jdbc:" + strings.Replace(url, "postgres://root@", "postgresql://", 1) + "&user=root"
	out := run(t, 60*time.Second, "testdata/jdbc", nil, java, "-cp", jar, "JdbcSmoke.java", jdbcURL)
	if !strings.Contains(out, "jdbc smoke ok") {
		t.Fatalf("JdbcSmoke did not finish:\n%s", out)
	}
}
