package server

import (
	"os"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/server/serverpb"
	"google.golang.org/protobuf/proto"
)

// storeIsEmpty reports whether dir holds no store yet (missing or empty),
// so that a node may join or bootstrap into it. Nothing is created.
func storeIsEmpty(dir string) (bool, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, errors.Wrapf(err, "reading the store directory %s", dir)
	}
	if len(entries) > 0 && !kv.HoldsStore(dir) {
		return false, errors.Newf("%s holds files but no Meridian store: refusing to start on it (name an empty or new directory)", dir)
	}
	return len(entries) == 0, nil
}

// readIdent returns the store's identity, nil if it has none: a store gets
// one when its node first joins or bootstraps a cluster, before anything
// else is written to it.
func readIdent(eng kv.Engine) (*serverpb.StoreIdent, error) {
	v, err := kv.MVCCGetUnversioned(eng, kv.StoreIdentKey)
	if err != nil {
		return nil, errors.Wrap(err, "reading the store's identity")
	}
	if v == nil {
		return nil, nil
	}
	id := &serverpb.StoreIdent{}
	if err := proto.Unmarshal(v.RawBytes, id); err != nil || len(id.ClusterId) == 0 || id.NodeId <= 0 {
		return nil, errors.Newf("the store's identity record is corrupt (%v): refusing to start on it", err)
	}
	return id, nil
}

// writeIdent writes the store's identity, synced.
func writeIdent(eng kv.Engine, id *serverpb.StoreIdent) error {
	raw, err := proto.Marshal(id)
	if err != nil {
		return err
	}
	b := eng.NewBatch()
	defer b.Close()
	if err := kv.MVCCPutUnversioned(b, nil, kv.StoreIdentKey, kv.MakeBytesValue(raw)); err != nil {
		return err
	}
	return errors.Wrap(b.Commit(true), "writing the store's identity")
}
