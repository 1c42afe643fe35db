package sql_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestCopyOptions: COPY's DELIMITER, NULL, QUOTE, ESCAPE and ENCODING
// options, to and from the client, in text and CSV format, and the
// options PostgreSQL refuses, with its SQLSTATEs. The expectations are
// PostgreSQL 15's; with MERIDIAN_TEST_PG_URL the test also runs there.
func TestCopyOptions(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	setup := []string{
		"DROP TABLE IF EXISTS copy_opt_t",
		"CREATE TABLE copy_opt_t (id INT PRIMARY KEY, t TEXT, n INT)",
		`INSERT INTO copy_opt_t VALUES (1, 'a|b', 10), (2, NULL, NULL), (3, 'say "hi"; ok', 30), (4, '', 40), (5, 'NA', 50), (6, E'x\\y', 60)`,
	}
	copyTo := []struct{ copy, want string }{
		{"COPY copy_opt_t TO STDOUT WITH (DELIMITER '|', NULL 'NULL')", "1|a\\|b|10\n2|NULL|NULL\n3|say \"hi\"; ok|30\n4||40\n5|NA|50\n6|x\\\\y|60\n"},
		{"COPY copy_opt_t TO STDOUT WITH (FORMAT csv, DELIMITER ';', NULL 'NA')", "1;a|b;10\n2;NA;NA\n3;\"say \"\"hi\"\"; ok\";30\n4;;40\n5;\"NA\";50\n6;x\\y;60\n"},
		{"COPY copy_opt_t TO STDOUT WITH (FORMAT csv, QUOTE '''', ESCAPE '\\', HEADER)", "id,t,n\n1,a|b,10\n2,,\n3,say \"hi\"; ok,30\n4,'',40\n5,NA,50\n6,x\\y,60\n"},
		{"COPY copy_opt_t TO STDOUT DELIMITER ',' CSV ENCODING 'UTF8'", "1,a|b,10\n2,,\n3,\"say \"\"hi\"\"; ok\",30\n4,\"\",40\n5,NA,50\n6,x\\y,60\n"},
	}
	copyFrom := []struct{ copy, data, want string }{
		{"COPY copy_opt_t FROM STDIN WITH (DELIMITER '|', NULL '')", "11|a\\|b|\n12||7\n13|\\N|8\n", "11|a|b|<null>\n12|<null>|7\n13|N|8\n"},
		{"COPY copy_opt_t FROM STDIN WITH (FORMAT csv, DELIMITER ';', NULL 'NA', HEADER)", "id;t;n\n21;NA;NA\n22;\"NA\";1\n23;\"semi;colon\";2\n24;;3\n", "21|<null>|<null>\n22|NA|1\n23|semi;colon|2\n24||3\n"},
		{"COPY copy_opt_t FROM STDIN WITH (FORMAT csv, QUOTE '''', ESCAPE '\\')", "31,'it\\'s',1\n32,'a\\\\b',2\n33,'multi\nline',3\n", "31|it's|1\n32|a\\b|2\n33|multi\nline|3\n"},
		{"COPY copy_opt_t FROM STDIN WITH (FORMAT csv)", "41,\"dq \"\" inside\",1\n42,,\n\\.\n", "41|dq \" inside|1\n42|<null>|<null>\n"},
	}
	refused := []struct{ copy, code string }{
		{"COPY copy_opt_t FROM STDIN WITH (DELIMITER '||')", "0A000"},
		{"COPY copy_opt_t FROM STDIN WITH (FORMAT binary, DELIMITER '|')", "42601"},
		{"COPY copy_opt_t FROM STDIN WITH (QUOTE '''')", "0A000"},
		{"COPY copy_opt_t FROM STDIN WITH (ESCAPE '\\')", "0A000"},
		{"COPY copy_opt_t FROM STDIN WITH (FORMAT csv, DELIMITER '\"')", "22023"},
		{"COPY copy_opt_t FROM STDIN WITH (DELIMITER 'a')", "22023"},
		{"COPY copy_opt_t FROM STDIN WITH (DELIMITER '|', NULL 'x|y')", "0A000"},
	}
	run := func(t *testing.T, url string) {
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = c.Close(ctx) }()
		for _, q := range setup {
			if _, err := c.Exec(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		for _, tc := range copyTo {
			var buf bytes.Buffer
			if _, err := c.PgConn().CopyTo(ctx, &buf, tc.copy); err != nil {
				t.Fatalf("%s: %v", tc.copy, err)
			}
			if got := buf.String(); got != tc.want {
				t.Errorf("%s:\n got %q\nwant %q", tc.copy, got, tc.want)
			}
		}
		for _, tc := range copyFrom {
			if _, err := c.Exec(ctx, "DELETE FROM copy_opt_t WHERE id > 10"); err != nil {
				t.Fatal(err)
			}
			if _, err := c.PgConn().CopyFrom(ctx, strings.NewReader(tc.data), tc.copy); err != nil {
				t.Fatalf("%s: %v", tc.copy, err)
			}
			rows, err := c.Query(ctx, "SELECT id, coalesce(t, '<null>'), coalesce(n::text, '<null>') FROM copy_opt_t WHERE id > 10 ORDER BY id")
			if err != nil {
				t.Fatal(err)
			}
			var got strings.Builder
			for rows.Next() {
				var id int
				var tv, nv string
				if err := rows.Scan(&id, &tv, &nv); err != nil {
					t.Fatal(err)
				}
				got.WriteString(strings.Join([]string{string(rune('0' + id/10)), string(rune('0' + id%10)), "|", tv, "|", nv, "\n"}, ""))
			}
			rows.Close()
			if got.String() != tc.want {
				t.Errorf("%s with %q:\n got %q\nwant %q", tc.copy, tc.data, got.String(), tc.want)
			}
		}
		for _, tc := range refused {
			_, err := c.PgConn().CopyFrom(ctx, strings.NewReader(""), tc.copy)
			if code := sqlState(err); code != tc.code {
				t.Errorf("%s: %v (SQLSTATE %q), want SQLSTATE %s", tc.copy, err, code, tc.code)
			}
		}
	}
	url := onMeridianAndPostgres(t, run)
	// PostgreSQL converts other encodings; Meridian takes UTF8 only.
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close(ctx) }()
	if _, err := c.PgConn().CopyFrom(ctx, strings.NewReader(""), "COPY copy_opt_t FROM STDIN WITH (ENCODING 'LATIN1')"); sqlState(err) != "0A000" {
		t.Errorf("ENCODING 'LATIN1': %v, want 0A000", err)
	}
}
