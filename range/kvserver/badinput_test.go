package kvserver_test

import (
	"context"
	"fmt"
	"hash/crc32"
	"strings"
	"testing"

	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/kvserver/kvtest"
	"github.com/meridiandb/meridian/range/rangepb"
	"go.etcd.io/raft/v3/raftpb"
)

// TestRaftMessagesFromUnknownClusterRefused: a batch of Raft messages from
// another cluster, or meant for another node, is refused whole and creates
// no replica.
func TestRaftMessagesFromUnknownClusterRefused(t *testing.T) {
	c := kvtest.NewCluster(t, kvtest.Options{Nodes: 2})
	s := c.Nodes[1].Store
	msg, _ := (&raftpb.Message{Type: raftpb.MsgHeartbeat, From: 1, To: 7, Term: 99}).Marshal()
	batch := func(cluster []byte, to int32) *rangepb.RaftMessageBatch {
		return &rangepb.RaftMessageBatch{ClusterId: cluster, FromNodeId: 1, ToNodeId: to, Messages: []*rangepb.RaftMessage{{
			RangeId: 42, FromReplica: &rangepb.ReplicaDescriptor{NodeId: 1, StoreId: 1, ReplicaId: 1},
			ToReplica: &rangepb.ReplicaDescriptor{NodeId: 2, StoreId: 2, ReplicaId: 7}, Message: msg,
		}}}
	}
	err := s.HandleRaftBatch(context.Background(), batch([]byte("another-cluster"), 2))
	if err == nil || !strings.Contains(err.Error(), "cluster ID mismatch") {
		t.Fatalf("want a cluster ID mismatch, got %v", err)
	}
	err = s.HandleRaftBatch(context.Background(), batch(kvtest.ClusterID, 3))
	if err == nil || !strings.Contains(err.Error(), "for node 3 reached node 2") {
		t.Fatalf("want a wrong-node error, got %v", err)
	}
	if _, err := s.GetReplica(42); err == nil {
		t.Fatal("a refused message created a replica")
	}
}

// TestCorruptSnapshotRefused: a snapshot whose bytes do not match its
// checksum, or whose SST is damaged or reaches outside the range, is
// refused with a clear error and nothing of it is applied.
func TestCorruptSnapshotRefused(t *testing.T) {
	c := kvtest.NewCluster(t, kvtest.Options{Nodes: 2})
	ctx := testCtx(t)
	if err := c.Put(ctx, 1, []byte("a"), []byte("1")); err != nil {
		t.Fatal(err)
	}
	src := c.Nodes[0].Engine
	desc := &rangepb.RangeDescriptor{
		RangeId: 9, StartKey: []byte("a"), EndKey: []byte("m"), NextReplicaId: 3,
		Replicas: []*rangepb.ReplicaDescriptor{{NodeId: 1, StoreId: 1, ReplicaId: 1}, {NodeId: 2, StoreId: 2, ReplicaId: 2}},
	}
	snapMsg, _ := (&raftpb.Message{Type: raftpb.MsgSnap, From: 1, To: 2, Term: 6, Snapshot: &raftpb.Snapshot{
		Metadata: raftpb.SnapshotMetadata{Index: 20, Term: 6, ConfState: raftpb.ConfState{Voters: []uint64{1, 2}}},
	}}).Marshal()
	header := &rangepb.RaftMessageBatch{ClusterId: kvtest.ClusterID, FromNodeId: 1, ToNodeId: 2, Messages: []*rangepb.RaftMessage{{
		RangeId: 9, FromReplica: desc.Replicas[0], ToReplica: desc.Replicas[1], Message: snapMsg,
	}}}
	good, err := kv.ExportSST(src, kv.Span{Key: []byte("a"), EndKey: []byte("m")})
	if err != nil {
		t.Fatal(err)
	}
	outside, err := kv.ExportSST(src, kv.Span{Key: kv.LocalRangeIDPrefix, EndKey: kv.KeyMax})
	if err != nil {
		t.Fatal(err)
	}
	damaged := append([]byte(nil), good...)
	damaged[len(damaged)/3] ^= 0xff
	sum := func(b []byte) uint32 { return crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)) }
	for _, tc := range []struct {
		name     string
		sst      []byte
		checksum uint32
		want     string
	}{
		{"checksum mismatch", damaged, sum(good), "corrupt snapshot"},
		{"damaged SST", damaged, sum(damaged), "refuses the snapshot"},
		{"keys outside the range", outside, sum(outside), "outside"},
	} {
		err := c.Nodes[1].Store.HandleSnapshot(ctx, &kvserver.Snapshot{Header: header, Desc: desc, SST: tc.sst, Checksum: tc.checksum})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("%s: want an error containing %q, got %v", tc.name, tc.want, err)
		}
	}
	if _, err := c.Nodes[1].Store.GetReplica(9); err == nil {
		t.Fatal("a refused snapshot created a replica")
	}
	if v, err := kv.MVCCGet(c.Nodes[1].Engine, []byte("a"), hlc.MaxTimestamp, kv.MVCCGetOptions{}); err != nil || v.Value != nil {
		t.Fatalf("data from a refused snapshot landed: %v %v", v.Value, err)
	}
}

// TestConsistencyCheckDetectsDivergence writes behind Raft's back into one
// replica's store: the consistency check must notice and name it.
func TestConsistencyCheckDetectsDivergence(t *testing.T) {
	c := kvtest.NewCluster(t, kvtest.Options{Nodes: 3})
	ctx := testCtx(t)
	if _, err := c.AddVoters(ctx, 1, 2, 3); err != nil {
		t.Fatal(err)
	}
	if err := c.Put(ctx, 1, []byte("a"), []byte("1")); err != nil {
		t.Fatal(err)
	}
	if err := c.CheckConsistency(ctx, 1); err != nil {
		t.Fatalf("healthy replicas: %v", err)
	}
	victim := 1 + c.Leaseholder(1)%3
	if err := kv.MVCCPut(c.Nodes[victim-1].Engine, nil, []byte("rogue"), hlc.Timestamp{WallTime: 1}, kv.MakeBytesValue([]byte("x")), kv.MVCCWriteOptions{}); err != nil {
		t.Fatal(err)
	}
	err := c.CheckConsistency(ctx, 1)
	if err == nil || !strings.Contains(err.Error(), "inconsistent") || !strings.Contains(err.Error(), fmt.Sprintf("on node %d", victim)) {
		t.Fatalf("want an inconsistency naming node %d, got %v", victim, err)
	}
}
