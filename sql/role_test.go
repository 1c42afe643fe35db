package sql_test

import (
	"context"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/pgwire"
	"github.com/meridiandb/meridian/sql"
	"github.com/meridiandb/meridian/sql/kvapi"
	"github.com/meridiandb/meridian/sql/memkv"
	"github.com/meridiandb/meridian/stop"
)

// serve starts a pgwire server for an executor over db on loopback and
// returns its address.
func serve(t *testing.T, db kvapi.DB, auth pgwire.Authenticator) string {
	t.Helper()
	st := stop.NewStopper()
	t.Cleanup(st.Stop)
	srv, err := pgwire.NewServer(pgwire.Config{Executor: sql.NewExecutor(db, hlc.PhysicalNow), Auth: auth}, st)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(ln); err != nil {
		t.Fatal(err)
	}
	return ln.Addr().String()
}

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// pgPencil is the verifier PostgreSQL 15 stored for CREATE ROLE ...
// PASSWORD 'pencil' (SELECT rolpassword FROM pg_authid).
const pgPencil = "SCRAM-SHA-256$4096:4K7hAfObjXXwj2/kCLkfMA==$+EPoHYdSTVUii0ALKFJe5wSVchCb2V4lJIt1wp2H23s=:mmd7WAv+eoQaNrjXNV0RcaTItX7z8ewo1WeTJUn95Kw="

// TestRolePasswordLogin: roles created in SQL log in with their
// passwords by SCRAM-SHA-256 through a server whose Authenticator reads
// the stored roles; wrong passwords, unknown users and roles without a
// password are refused alike (28P01), NOLOGIN roles with 28000, and a
// changed password or name takes effect on the next connection.
func TestRolePasswordLogin(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db := memkv.New()
	admin, err := pgx.Connect(ctx, "postgres://root@"+serve(t, db, nil)+"/defaultdb?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = admin.Close(ctx) }()
	exec := func(q string) {
		t.Helper()
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec("CREATE USER alice PASSWORD 's3cret'")
	exec("CREATE ROLE nologin PASSWORD 's3cret'")
	exec("CREATE USER nopass")
	exec("CREATE USER copied PASSWORD '" + pgPencil + "'")

	addr := serve(t, db, sql.NewRoleAuthenticator(db))
	url := func(user, pw string) string {
		return "postgres://" + user + ":" + pw + "@" + addr + "/defaultdb?sslmode=disable"
	}
	login := func(user, pw string) error {
		t.Helper()
		c, err := pgx.Connect(ctx, url(user, pw))
		if err != nil {
			return err
		}
		defer func() { _ = c.Close(ctx) }()
		var who string
		if err := c.QueryRow(ctx, "SELECT current_user").Scan(&who); err != nil {
			t.Fatalf("%s: %v", user, err)
		}
		if who != user {
			t.Fatalf("logged in as %s, current_user is %s", user, who)
		}
		return nil
	}
	refused := func(user, pw, code, msg string) {
		t.Helper()
		err := login(user, pw)
		if pgCode(err) != code || !strings.Contains(err.Error(), msg) {
			t.Fatalf("%s/%s: got %v, want %s %q", user, pw, err, code, msg)
		}
	}
	if err := login("alice", "s3cret"); err != nil {
		t.Fatal(err)
	}
	// PostgreSQL's verifier works here as it does there.
	if err := login("copied", "pencil"); err != nil {
		t.Fatal(err)
	}
	failed := "password authentication failed for user"
	refused("alice", "wrong", "28P01", failed)
	refused("mallory", "s3cret", "28P01", failed)
	refused("nopass", "", "28P01", failed)
	refused("nopass", "x", "28P01", failed)
	refused("root", "x", "28P01", failed)
	refused("nologin", "wrong", "28P01", failed)
	refused("nologin", "s3cret", "28000", `role "nologin" is not permitted to log in`)

	exec("ALTER USER alice PASSWORD 'n3w'")
	refused("alice", "s3cret", "28P01", failed)
	if err := login("alice", "n3w"); err != nil {
		t.Fatal(err)
	}
	exec("ALTER ROLE nologin LOGIN")
	if err := login("nologin", "s3cret"); err != nil {
		t.Fatal(err)
	}
	exec("ALTER ROLE alice RENAME TO alicia")
	refused("alice", "n3w", "28P01", failed)
	if err := login("alicia", "n3w"); err != nil {
		t.Fatal(err)
	}
	// root is built in: it cannot be dropped, renamed or weakened, and
	// logs in with a password once it has one.
	for q, code := range map[string]string{
		"DROP ROLE root": "55006", "ALTER ROLE root NOLOGIN": "42501", "ALTER ROLE root NOSUPERUSER": "42501",
		"ALTER ROLE root RENAME TO groot": "0A000", // the admin session's own user
		"CREATE ROLE root":                "42710",
		"CREATE/* a comment */ROLE x SUPERUSER VALID UNTIL 'infinity'": "0A000",
	} {
		if _, err := admin.Exec(ctx, q); pgCode(err) != code {
			t.Errorf("%s: %v, want %s", q, err, code)
		}
	}
	refused("root", "", "28P01", failed)
	exec("ALTER ROLE root PASSWORD 'r00t'")
	if err := login("root", "r00t"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := admin.QueryRow(ctx, "SELECT count(*) FROM pg_roles WHERE rolname = 'root' AND rolsuper AND rolcanlogin AND oid = 10").Scan(&n); err != nil || n != 1 {
		t.Fatalf("root in pg_roles: %d rows, %v", n, err)
	}
	exec("ALTER ROLE alicia NOLOGIN")
	refused("alicia", "n3w", "28000", "not permitted to log in")
	exec("DROP USER alicia")
	refused("alicia", "n3w", "28P01", failed)
}

// TestPsqlDu: psql 15's \du lists the stored roles, their attributes
// and memberships as PostgreSQL 15 does (whose own superuser is named
// otherwise: its row is root's here).
func TestPsqlDu(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql is not installed (.ci/run installs postgresql-client)")
	}
	c, url := startSQL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, q := range []string{
		"CREATE ROLE staff", "CREATE USER alice IN ROLE staff", "CREATE ROLE boss SUPERUSER CREATEDB CREATEROLE NOINHERIT",
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	out, err := exec.CommandContext(ctx, psql, "-X", "-d", url, "-c", `\du`).CombinedOutput()
	if err != nil {
		t.Fatalf("psql: %v\n%s", err, out)
	}
	want := `                                      List of roles
 Role name |                           Attributes                            | Member of 
-----------+-----------------------------------------------------------------+-----------
 alice     |                                                                 | {staff}
 boss      | Superuser, No inheritance, Create role, Create DB, Cannot login | {}
 root      | Superuser, Create role, Create DB, Replication, Bypass RLS      | {}
 staff     | Cannot login                                                    | {}

`
	if string(out) != want {
		t.Errorf("psql printed:\n%s\nwant (PostgreSQL 15's):\n%s", out, want)
	}
}

// TestPsqlPasswordLogin: psql (libpq) logs in with a password that
// SASLprep changes, as the verifier was derived from the prepared
// password as PostgreSQL derives it.
func TestPsqlPasswordLogin(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql is not installed (.ci/run installs postgresql-client)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db := memkv.New()
	admin, err := pgx.Connect(ctx, "postgres://root@"+serve(t, db, nil)+"/defaultdb?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = admin.Close(ctx) }()
	const password = "\ufb01\u00a0\u216b\u00adz" // fi, no-break space, XII, soft hyphen, z
	if _, err := admin.Exec(ctx, "CREATE USER zoe PASSWORD '"+password+"'"); err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(serve(t, db, sql.NewRoleAuthenticator(db)))
	for _, tc := range []struct {
		password string
		ok       bool
	}{{password, true}, {"fi XIIz", true}, {"fi XIIy", false}} {
		cmd := exec.CommandContext(ctx, psql, "-X", "-A", "-t", "-h", host, "-p", port, "-U", "zoe", "-d", "defaultdb", "-c", "SELECT current_user")
		cmd.Env = append(cmd.Environ(), "PGPASSWORD="+tc.password, "PGSSLMODE=disable", "PGCONNECT_TIMEOUT=10")
		out, err := cmd.CombinedOutput()
		if tc.ok && (err != nil || strings.TrimSpace(string(out)) != "zoe") {
			t.Errorf("psql with %q: %v\n%s", tc.password, err, out)
		}
		if !tc.ok && (err == nil || !strings.Contains(string(out), "password authentication failed")) {
			t.Errorf("psql with %q logged in or failed otherwise: %v\n%s", tc.password, err, out)
		}
	}
}
