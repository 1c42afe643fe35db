package kv

import "github.com/meridiandb/meridian/kv/kvpb"

// The MVCC layer's types (transactions, locks, values, keys, errors) are
// kvpb's, a leaf package that the layers above can import without the
// engine (Pebble); kv keeps their names.
type (
	BatchTimestampBeforeGCError        = kvpb.BatchTimestampBeforeGCError
	ConditionFailedError               = kvpb.ConditionFailedError
	Lock                               = kvpb.Lock
	LockConflictError                  = kvpb.LockConflictError
	LockNotAvailableError              = kvpb.LockNotAvailableError
	ReadNotFreshError                  = kvpb.ReadNotFreshError
	ReadWithinUncertaintyIntervalError = kvpb.ReadWithinUncertaintyIntervalError
	SeqNumRange                        = kvpb.SeqNumRange
	Span                               = kvpb.Span
	Txn                                = kvpb.Txn
	TxnID                              = kvpb.TxnID
	TxnMeta                            = kvpb.TxnMeta
	TxnStatus                          = kvpb.TxnStatus
	Value                              = kvpb.Value
	ValueType                          = kvpb.ValueType
	WriteTooOldError                   = kvpb.WriteTooOldError
)

const (
	PENDING            = kvpb.PENDING
	COMMITTED          = kvpb.COMMITTED
	ABORTED            = kvpb.ABORTED
	ValueTypeTombstone = kvpb.ValueTypeTombstone
	ValueTypeBytes     = kvpb.ValueTypeBytes
	ValueTypeInt       = kvpb.ValueTypeInt
)

var (
	ErrSequenceRegression  = kvpb.ErrSequenceRegression
	ErrUnknownStoreVersion = kvpb.ErrUnknownStoreVersion
	TombstoneValue         = kvpb.TombstoneValue
	LocalPrefix            = kvpb.LocalPrefix
	LocalMax               = kvpb.LocalMax
	LocalRangeIDPrefix     = kvpb.LocalRangeIDPrefix
	LocalRangePrefix       = kvpb.LocalRangePrefix
	LocalLockTablePrefix   = kvpb.LocalLockTablePrefix
	LocalLockTableMax      = kvpb.LocalLockTableMax
	StoreIdentKey          = kvpb.StoreIdentKey
	KeyMin                 = kvpb.KeyMin
	KeyMax                 = kvpb.KeyMax
	Meta1Prefix            = kvpb.Meta1Prefix
	Meta2Prefix            = kvpb.Meta2Prefix
	Meta2Max               = kvpb.Meta2Max
	MetaMax                = kvpb.MetaMax
	SystemPrefix           = kvpb.SystemPrefix
	SystemMax              = kvpb.SystemMax
	RangeIDGeneratorKey    = kvpb.RangeIDGeneratorKey
	NoSplitMax             = kvpb.NoSplitMax
	NodeIDGeneratorKey     = kvpb.NodeIDGeneratorKey
	NodeDescPrefix         = kvpb.NodeDescPrefix
)

func DecodeLockTableKey(lk []byte) ([]byte, error) { return kvpb.DecodeLockTableKey(lk) }

func IsLocal(key []byte) bool { return kvpb.IsLocal(key) }

func IsLockTableKey(key []byte) bool { return kvpb.IsLockTableKey(key) }

func KeyNext(key []byte) []byte { return kvpb.KeyNext(key) }

func LockTableKey(key []byte) []byte { return kvpb.LockTableKey(key) }

func Meta2Key(end []byte) []byte { return kvpb.Meta2Key(end) }

func MakeBytesValue(b []byte) Value { return kvpb.MakeBytesValue(b) }

func MakeIntValue(i int64) Value { return kvpb.MakeIntValue(i) }

func seqIgnored(seq int32, ignored []SeqNumRange) bool { return kvpb.SeqIgnored(seq, ignored) }
