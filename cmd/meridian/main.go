// Command meridian runs a Meridian node and its tools: one cobra command
// per file (start.go, init.go, node.go, sql.go, cert.go, demo.go,
// workload.go, version.go); `meridian --help` lists them. Every flag can
// also be set by an environment variable, MERIDIAN_ and the flag's name in
// upper case with dashes as underscores (--listen-addr:
// MERIDIAN_LISTEN_ADDR); a flag on the command line wins.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/cockroachdb/errors"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// exitError carries a command's exit code (2: usage).
type exitCode struct{ code int }

func (e exitCode) Error() string { return fmt.Sprintf("exit %d", e.code) }

func main() {
	os.Exit(run(os.Args[1:]))
}

// run runs the command line args and returns the exit code.
func run(args []string) int {
	root := newRootCmd()
	root.SetArgs(args)
	err := root.Execute()
	var ee exitCode
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	default:
		fmt.Fprintln(os.Stderr, "Error:", err)
		return 1
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "meridian",
		Short: "Meridian: a distributed SQL database that speaks PostgreSQL",
		Long: `Meridian is a distributed SQL database: PostgreSQL's wire protocol on top, a
range-sharded, Raft-replicated MVCC key-value store underneath.

Start a node with 'meridian start' (several, joined with --join, then
'meridian init' once), or a local cluster with 'meridian demo'.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return flagsFromEnv(cmd.Flags())
		},
	}
	root.AddCommand(
		newStartCmd(), newStartSingleNodeCmd(), newInitCmd(), newNodeCmd(), newSQLCmd(),
		newCertCmd(), newDemoCmd(), newWorkloadCmd(), newVersionCmd(),
	)
	return root
}

// flagsFromEnv sets every flag not given on the command line from its
// MERIDIAN_* environment variable, if set.
func flagsFromEnv(fs *pflag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed || err != nil {
			return
		}
		name := "MERIDIAN_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok {
			if serr := fs.Set(f.Name, v); serr != nil {
				err = errors.Wrapf(serr, "%s=%q", name, v)
			}
		}
	})
	return err
}
