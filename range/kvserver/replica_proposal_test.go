package kvserver

import (
	"testing"

	"github.com/meridiandb/meridian/range/rangepb"
)

// TestAppendMaxLeaseIndex checks that a lease index appended to an encoded
// command decodes as the command's own, as if it had been encoded with it.
func TestAppendMaxLeaseIndex(t *testing.T) {
	for _, mli := range []uint64{1, 127, 128, 1 << 40, 1<<64 - 1} {
		cmd := &rangepb.RaftCommand{WriteBatch: []byte("batch"), ProposerLeaseSequence: 7}
		data, err := encodeCommand(42, cmd)
		if err != nil {
			t.Fatal(err)
		}
		id, got, err := decodeCommand(appendMaxLeaseIndex(data, mli))
		if err != nil {
			t.Fatal(err)
		}
		if id != 42 || got.MaxLeaseIndex != mli || got.ProposerLeaseSequence != 7 || string(got.WriteBatch) != "batch" {
			t.Fatalf("mli %d: decoded id %d, %v", mli, id, got)
		}
	}
}
