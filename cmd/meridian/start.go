package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/server"
)

// runStartSingleNode runs a one-node cluster on a store that outlives it:
// the first start bootstraps the store (a new cluster ID, the first range),
// later starts reopen it. Every write still goes through Raft, a group of
// one voter.
func runStartSingleNode(args []string) int {
	fs := flag.NewFlagSet("start-single-node", flag.ContinueOnError)
	store := fs.String("store", "meridian-data", "the store's directory (created and bootstrapped if new)")
	listen := fs.String("listen-addr", "127.0.0.1:26357", "address for node-to-node gRPC")
	sqlAddr := fs.String("sql-addr", "127.0.0.1:26257", "address for PostgreSQL clients")
	pprofAddr := fs.String("pprof-addr", "", "address to serve Go runtime profiles (/debug/pprof/) on; empty: none")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := servePprof(*pprofAddr); err != nil {
		fmt.Fprintln(os.Stderr, "meridian start-single-node:", err)
		return 1
	}
	n, fresh, err := startSingleNode(*store, *listen, *sqlAddr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "meridian start-single-node:", err)
		return 1
	}
	if fresh {
		fmt.Printf("Bootstrapped a new cluster in %s\n", *store)
	}
	fmt.Printf("Meridian node 1 is running (store %s, gRPC %s).\nConnect with:\n  psql \"postgresql://root@%s/defaultdb?sslmode=disable\"\n",
		*store, n.Addr(), n.SQLAddr())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	fmt.Println("Stopping.")
	n.Stop()
	return 0
}

// clusterIDFile holds a store's cluster ID, written once the store is
// bootstrapped.
const clusterIDFile = "CLUSTER_ID"

// startSingleNode starts node 1 on the store in dir, bootstrapping it
// first if it holds no cluster yet; fresh reports that it did.
func startSingleNode(dir, listenAddr, sqlAddr string) (n *server.Node, fresh bool, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, false, errors.Wrapf(err, "creating the store directory %s", dir)
	}
	idPath := filepath.Join(dir, clusterIDFile)
	var clusterID []byte
	switch b, err := os.ReadFile(idPath); {
	case err == nil:
		if clusterID, err = hex.DecodeString(strings.TrimSpace(string(b))); err != nil || len(clusterID) == 0 {
			return nil, false, errors.Newf("%s is corrupt: not a hex cluster ID", idPath)
		}
	case errors.Is(err, os.ErrNotExist):
		entries, rerr := os.ReadDir(dir)
		if rerr != nil {
			return nil, false, rerr
		}
		if len(entries) > 0 {
			return nil, false, errors.Newf("%s holds files but no %s: not a Meridian store, or a damaged one; refusing to bootstrap over it", dir, clusterIDFile)
		}
		clusterID = make([]byte, 16)
		_, _ = rand.Read(clusterID)
		fresh = true
	default:
		return nil, false, errors.Wrapf(err, "reading %s", idPath)
	}
	ln, err := net.Listen("tcp", listenAddr)
	if err != nil {
		return nil, false, errors.Wrap(err, "listening for gRPC")
	}
	sqlLn, err := net.Listen("tcp", sqlAddr)
	if err != nil {
		_ = ln.Close()
		return nil, false, errors.Wrap(err, "listening for SQL clients")
	}
	self := ln.Addr().String()
	n, err = server.Start(server.Config{
		NodeID: 1, ClusterID: clusterID, StoreDir: dir, Listener: ln, SQLListener: sqlLn, Bootstrap: fresh,
		Resolve: func(id kvserver.NodeID) (string, error) {
			if id != 1 {
				return "", errors.Newf("unknown node %d: this is a single-node cluster", id)
			}
			return self, nil
		},
	})
	if err != nil {
		_ = sqlLn.Close()
		return nil, false, err
	}
	if fresh {
		// Written last: a store without it was never fully bootstrapped.
		if err := writeFileSync(idPath, []byte(hex.EncodeToString(clusterID)+"\n")); err != nil {
			n.Stop()
			return nil, false, err
		}
	}
	return n, fresh, nil
}

func writeFileSync(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err = f.Write(data); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	return errors.Wrapf(err, "writing %s", path)
}
