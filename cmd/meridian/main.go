// Command meridian runs a Meridian node and its tools. Each subcommand lives
// in its own file; `meridian help` lists them.
package main

import (
	"fmt"
	"os"
	"sort"
)

// command is one subcommand: run gets the arguments after its name and
// returns the process exit code.
type command struct {
	summary string
	run     func(args []string) int
}

var commands = map[string]command{
	"demo":              {"run a local demonstration on temporary stores", runDemo},
	"start-single-node": {"run a one-node cluster on a persistent store, serving PostgreSQL clients", runStartSingleNode},
	"workload":          {"load and run TPC-C, kv and bank against PostgreSQL-wire endpoints", runWorkloadCmd},
}

func main() {
	os.Exit(dispatch(os.Args[1:]))
}

func dispatch(args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage()
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(os.Stderr, "meridian: unknown command %q\n\n", args[0])
		usage()
		return 2
	}
	return cmd.run(args[1:])
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: meridian <command> [arguments]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for name := range commands {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(os.Stderr, "  %-10s %s\n", name, commands[name].summary)
	}
}
