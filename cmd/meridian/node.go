package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/server"
	"github.com/meridiandb/meridian/server/serverpb"
	"github.com/spf13/cobra"
)

func newNodeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "node",
		Short: "list, inspect, drain and decommission the cluster's nodes",
	}
	cmd.AddCommand(newNodeListCmd("ls", "list the cluster's nodes"), newNodeListCmd("status [NODE...]", "show the nodes' status: addresses, locality, liveness, ranges, leases, uptime"),
		newNodeDrainCmd(), newDecommissionCmd(true), newDecommissionCmd(false))
	return cmd
}

func newNodeListCmd(use, short string) *cobra.Command {
	var f clientFlags
	var format string
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		RunE: func(cmd *cobra.Command, args []string) error {
			nodes, err := fetchNodes(&f)
			if err != nil {
				return err
			}
			if len(args) > 0 {
				want := map[int32]bool{}
				for _, a := range args {
					id, err := strconv.Atoi(a)
					if err != nil {
						return errors.Newf("%q is not a node ID", a)
					}
					want[int32(id)] = true
				}
				var sel []*serverpb.NodeStatus
				for _, n := range nodes {
					if want[n.Desc.NodeId] {
						sel = append(sel, n)
					}
				}
				nodes = sel
			}
			return printNodes(cmd.OutOrStdout(), nodes, format)
		},
	}
	f.register(cmd.Flags())
	cmd.Flags().StringVar(&format, "format", "table", "output format: table or json")
	return cmd
}

func fetchNodes(f *clientFlags) ([]*serverpb.NodeStatus, error) {
	c, closeFn, err := f.dial()
	if err != nil {
		return nil, err
	}
	defer closeFn()
	ctx, cancel := context.WithTimeout(context.Background(), f.timeout)
	defer cancel()
	resp, err := c.Nodes(ctx, &serverpb.NodesRequest{})
	if err != nil {
		return nil, errors.Wrapf(rpcError(err), "asking %s for the nodes", f.host)
	}
	return resp.Nodes, nil
}

// nodeRow is one node as `node ls` prints it.
type nodeRow struct {
	ID         int32  `json:"id"`
	Address    string `json:"address"`
	SQLAddress string `json:"sql_address"`
	HTTP       string `json:"http_address"`
	Locality   string `json:"locality"`
	Live       bool   `json:"is_live"`
	Ranges     int32  `json:"ranges"`
	Leases     int32  `json:"leases"`
	Membership string `json:"membership"`
	Draining   bool   `json:"is_draining"`
	Uptime     string `json:"uptime"`
	Version    string `json:"build"`
}

func printNodes(w io.Writer, nodes []*serverpb.NodeStatus, format string) error {
	rows := make([]nodeRow, len(nodes))
	for i, n := range nodes {
		d := n.Desc
		uptime := ""
		if n.Live && d.StartedAt > 0 {
			uptime = hlc.PhysicalNow().Sub(time.Unix(0, d.StartedAt)).Round(time.Second).String()
		}
		rows[i] = nodeRow{ID: d.NodeId, Address: d.Address, SQLAddress: d.SqlAddress, HTTP: d.HttpAddress,
			Locality: server.FormatLocality(d.Locality), Live: n.Live, Ranges: n.Ranges, Leases: n.Leases,
			Membership: d.Membership.String(), Draining: n.Draining, Uptime: uptime, Version: d.BuildVersion}
	}
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	case "table":
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "id\taddress\tsql_address\tlocality\tis_live\tranges\tleases\tmembership\tis_draining\tuptime")
		for _, r := range rows {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%v\t%d\t%d\t%s\t%v\t%s\n", r.ID, r.Address, r.SQLAddress, r.Locality, r.Live, r.Ranges, r.Leases, r.Membership, r.Draining, r.Uptime)
		}
		fmt.Fprintf(tw, "(%d rows)\n", len(rows))
		return tw.Flush()
	default:
		return errors.Newf("--format %q: want table or json", format)
	}
}

func newNodeDrainCmd() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "drain [NODE]",
		Short: "drain a node (the one at --host, or node NODE): close its SQL connections as they go idle and move its leases away",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			target := f
			if len(args) == 1 {
				addr, err := nodeAddress(&f, args[0])
				if err != nil {
					return err
				}
				target.host = addr
			}
			c, closeFn, err := target.dial()
			if err != nil {
				return err
			}
			defer closeFn()
			ctx, cancel := context.WithTimeout(context.Background(), f.timeout)
			defer cancel()
			resp, err := c.Drain(ctx, &serverpb.DrainRequest{})
			if err != nil {
				return errors.Wrapf(rpcError(err), "draining %s", target.host)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Node at %s drained: %s.\n", target.host, resp.Progress)
			return nil
		},
	}
	f.register(cmd.Flags())
	return cmd
}

// nodeAddress looks up node id's gRPC address.
func nodeAddress(f *clientFlags, id string) (string, error) {
	nodes, err := fetchNodes(f)
	if err != nil {
		return "", err
	}
	for _, n := range nodes {
		if strconv.Itoa(int(n.Desc.NodeId)) == id {
			return n.Desc.Address, nil
		}
	}
	return "", errors.Newf("node %s is not a member of the cluster", id)
}

func newDecommissionCmd(decommission bool) *cobra.Command {
	var f clientFlags
	var wait bool
	use, short := "decommission NODE...", "move every replica off the nodes, then retire them for good"
	if !decommission {
		use, short = "recommission NODE...", "take back a decommission that has not finished"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var ids []int32
			for _, a := range args {
				id, err := strconv.Atoi(a)
				if err != nil || id <= 0 {
					return errors.Newf("%q is not a node ID", a)
				}
				ids = append(ids, int32(id))
			}
			c, closeFn, err := f.dial()
			if err != nil {
				return err
			}
			defer closeFn()
			ctx, cancel := context.WithTimeout(context.Background(), f.timeout)
			defer cancel()
			target := serverpb.Membership_DECOMMISSIONING
			if !decommission {
				target = serverpb.Membership_ACTIVE
			}
			resp, err := c.Decommission(ctx, &serverpb.DecommissionRequest{NodeIds: ids, Target: target})
			if err != nil {
				return rpcError(err)
			}
			out := cmd.OutOrStdout()
			if !decommission || !wait {
				return printNodes(out, resp.Nodes, "table")
			}
			// Wait until the nodes hold no replica, then retire them.
			for {
				left := int32(0)
				for _, n := range resp.Nodes {
					left += n.Ranges
				}
				fmt.Fprintf(out, "replicas left on n%v: %d\n", ids, left)
				if left == 0 {
					break
				}
				t := time.NewTimer(time.Second)
				select {
				case <-ctx.Done():
					t.Stop()
					return errors.Newf("nodes %v still hold %d replicas after %s: the decommission goes on; run the command again to wait more", ids, left, f.timeout)
				case <-t.C:
				}
				if resp, err = c.Decommission(ctx, &serverpb.DecommissionRequest{NodeIds: ids, Target: target}); err != nil {
					return rpcError(err)
				}
			}
			if resp, err = c.Decommission(ctx, &serverpb.DecommissionRequest{NodeIds: ids, Target: serverpb.Membership_DECOMMISSIONED}); err != nil {
				return rpcError(err)
			}
			if err := printNodes(out, resp.Nodes, "table"); err != nil {
				return err
			}
			fmt.Fprintln(out, "No more data reported on the decommissioned nodes: they can be stopped.")
			return nil
		},
	}
	f.register(cmd.Flags())
	if decommission {
		cmd.Flags().BoolVar(&wait, "wait", true, "wait until the nodes hold no replica, then mark them decommissioned")
		cmd.Flags().Lookup("timeout").DefValue = "10m0s"
		_ = cmd.Flags().Set("timeout", "10m")
	}
	return cmd
}
