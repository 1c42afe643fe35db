package rangepb

// NodeID names a node (and its store: one per node).
type NodeID int32

// RangeID names a range.
type RangeID int64

// MetaRangeID is range 1: meta2 (the range addressing records) and the
// range ID generator.
const MetaRangeID RangeID = 1
