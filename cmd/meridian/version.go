package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/meridiandb/meridian/server"
	"github.com/spf13/cobra"
)

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "print the version of this binary",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			rev := "unknown"
			if bi, ok := debug.ReadBuildInfo(); ok {
				for _, s := range bi.Settings {
					if s.Key == "vcs.revision" {
						rev = s.Value
					}
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Meridian %s\nBuild: %s, %s %s/%s\n", server.BuildVersion, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		},
	}
}
