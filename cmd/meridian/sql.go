package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/spf13/cobra"
)

func newSQLCmd() *cobra.Command {
	var url, host, user, database, certsDir string
	var insecure bool
	var execs []string
	cmd := &cobra.Command{
		Use:   "sql",
		Short: "a small SQL shell (works without psql installed)",
		Long: `Run SQL against a node: the statements given with -e, one after the other,
or, without -e, statements read from standard input (each ends with ';').
Connect with --url postgresql://..., or --host H:P (the node's SQL address).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if url == "" {
				switch {
				case insecure == (certsDir != ""):
					return errors.New("with --host, choose one of --insecure and --certs-dir (or give --url)")
				case insecure:
					url = fmt.Sprintf("postgresql://%s@%s/%s?sslmode=disable", user, host, database)
				default:
					crt, key := clientCertFiles(user)
					url = fmt.Sprintf("postgresql://%s@%s/%s?sslmode=verify-full&sslrootcert=%s/%s&sslcert=%s/%s&sslkey=%s/%s",
						user, host, database, certsDir, caCertFile, certsDir, crt, certsDir, key)
				}
			}
			ctx := context.Background()
			conn, err := pgx.Connect(ctx, url)
			if err != nil {
				return errors.Wrap(err, "connecting")
			}
			defer conn.Close(ctx)
			out := cmd.OutOrStdout()
			if len(execs) > 0 {
				for _, q := range execs {
					if err := runSQL(ctx, conn, q, out); err != nil {
						return err
					}
				}
				return nil
			}
			return sqlShell(ctx, conn, cmd.InOrStdin(), out, cmd.ErrOrStderr())
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&url, "url", "", "connection URL (postgresql://user@host:port/db?sslmode=...)")
	fs.StringVar(&host, "host", "127.0.0.1:26257", "the node's SQL address")
	fs.StringVar(&user, "user", "root", "SQL user")
	fs.StringVar(&database, "database", "defaultdb", "database")
	fs.BoolVar(&insecure, "insecure", false, "connect without TLS")
	fs.StringVar(&certsDir, "certs-dir", "", "directory with ca.crt and client.<user>.crt/.key")
	fs.StringArrayVarP(&execs, "execute", "e", nil, "a statement to run (repeatable); without -e, read statements from standard input")
	return cmd
}

// sqlShell reads statements ending in ';' and runs each, printing errors
// and going on.
func sqlShell(ctx context.Context, conn *pgx.Conn, in io.Reader, out, errOut io.Writer) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	interactive := false
	if f, ok := in.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			interactive = true
		}
	}
	var buf strings.Builder
	prompt := func() {
		if interactive {
			if buf.Len() == 0 {
				fmt.Fprint(out, "meridian> ")
			} else {
				fmt.Fprint(out, "       -> ")
			}
		}
	}
	prompt()
	for sc.Scan() {
		line := sc.Text()
		if buf.Len() == 0 && (line == `\q` || line == "quit" || line == "exit") {
			return nil
		}
		buf.WriteString(line)
		buf.WriteByte('\n')
		if strings.HasSuffix(strings.TrimSpace(line), ";") {
			if err := runSQL(ctx, conn, buf.String(), out); err != nil {
				fmt.Fprintln(errOut, err)
			}
			buf.Reset()
		}
		prompt()
	}
	if strings.TrimSpace(buf.String()) != "" {
		if err := runSQL(ctx, conn, buf.String(), out); err != nil {
			fmt.Fprintln(errOut, err)
		}
	}
	return sc.Err()
}

// runSQL runs q (one or more statements, simple protocol) and prints each
// result as a table, or its command tag.
func runSQL(ctx context.Context, conn *pgx.Conn, q string, out io.Writer) error {
	results, err := conn.PgConn().Exec(ctx, q).ReadAll()
	for _, r := range results {
		if len(r.FieldDescriptions) > 0 {
			tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
			names := make([]string, len(r.FieldDescriptions))
			for i, f := range r.FieldDescriptions {
				names[i] = f.Name
			}
			fmt.Fprintln(tw, strings.Join(names, "\t"))
			for _, row := range r.Rows {
				vals := make([]string, len(row))
				for i, v := range row {
					if v == nil {
						vals[i] = "NULL"
					} else {
						vals[i] = string(v)
					}
				}
				fmt.Fprintln(tw, strings.Join(vals, "\t"))
			}
			_ = tw.Flush()
			fmt.Fprintf(out, "(%d row%s)\n\n", len(r.Rows), plural(len(r.Rows)))
		} else if r.Err == nil {
			fmt.Fprintln(out, r.CommandTag.String())
		}
		if r.Err != nil && err == nil {
			err = r.Err
		}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return errors.Newf("ERROR: %s (SQLSTATE %s)", pe.Message, pe.Code)
	}
	return err
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
