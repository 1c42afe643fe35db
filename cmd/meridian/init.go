package main

import (
	"context"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/server"
	"github.com/meridiandb/meridian/server/serverpb"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

// clientFlags are the flags of the commands that talk to a node's gRPC
// address.
type clientFlags struct {
	host     string
	insecure bool
	certsDir string
	timeout  time.Duration
}

func (f *clientFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.host, "host", "127.0.0.1:26357", "a node's gRPC address (its --listen-addr or --advertise-addr)")
	fs.BoolVar(&f.insecure, "insecure", false, "talk to an insecure cluster (no TLS)")
	fs.StringVar(&f.certsDir, "certs-dir", "", "directory with ca.crt and client.root.crt/.key, for a secure cluster")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "how long to wait for the node")
}

// dial connects to the node's Admin service.
func (f *clientFlags) dial() (serverpb.AdminClient, func(), error) {
	var tc *tls.Config
	switch {
	case f.insecure == (f.certsDir != ""):
		return nil, nil, errors.New("choose one of --insecure and --certs-dir")
	case f.certsDir != "":
		var err error
		if tc, err = clientTLS(f.certsDir, "root"); err != nil {
			return nil, nil, err
		}
	}
	return server.DialAdmin(f.host, tc)
}

// rpcError makes a gRPC error readable: its message without the code.
func rpcError(err error) error {
	if st, ok := status.FromError(err); ok {
		return errors.Newf("%s (%s)", st.Message(), st.Code())
	}
	return err
}

func newInitCmd() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "init",
		Short: "bootstrap a new cluster on the node at --host (once, ever)",
		Long: `Bootstrap a new cluster: the node at --host, started with 'meridian start'
on a new store, becomes node 1 of a new cluster; the other nodes join it
through their --join addresses. A cluster is initialized once: a second
init fails.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, closeFn, err := f.dial()
			if err != nil {
				return err
			}
			defer closeFn()
			ctx, cancel := context.WithTimeout(context.Background(), f.timeout)
			defer cancel()
			// The node may still be starting: wait for it to answer.
			resp, err := c.Init(ctx, &serverpb.InitRequest{}, grpc.WaitForReady(true))
			if err != nil {
				return errors.Wrapf(rpcError(err), "initializing the cluster through %s", f.host)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Cluster %s initialized: node %d at %s bootstrapped it.\n", hex.EncodeToString(resp.ClusterId), resp.NodeId, f.host)
			return nil
		},
	}
	f.register(cmd.Flags())
	return cmd
}
