package rangepb

import "google.golang.org/protobuf/proto"

// What each kind of KV request is, in one place: its Method, the keys it
// addresses (Addr) and the Flags that say what it does. The layers that
// route, sequence and evaluate requests ask these instead of switching on
// the union's types (kvserver registers each method's latches and
// evaluation in a file of its own, cmd_*.go).

// Method is a kind of KV request.
type Method int

// The methods, one per field of RequestUnion.
const (
	Get Method = iota
	Put
	ConditionalPut
	Increment
	Delete
	DeleteRange
	Scan
	RequestLease
	TransferLease
	ChangeReplicas
	ComputeChecksum
	CollectChecksum
	AdminSplit
	AdminMerge
	Subsume
	WaitApplied
	GC
	EndTxn
	HeartbeatTxn
	PushTxn
	ResolveIntent
	ResolveIntentRange
	QueryTxn
	Refresh
	RefreshRange
	QueryIntent
	RecoverTxn
	WaitsFor
	// NumMethods counts the methods.
	NumMethods
)

var methodNames = [NumMethods]string{
	Get:                "Get",
	Put:                "Put",
	ConditionalPut:     "ConditionalPut",
	Increment:          "Increment",
	Delete:             "Delete",
	DeleteRange:        "DeleteRange",
	Scan:               "Scan",
	RequestLease:       "RequestLease",
	TransferLease:      "TransferLease",
	ChangeReplicas:     "ChangeReplicas",
	ComputeChecksum:    "ComputeChecksum",
	CollectChecksum:    "CollectChecksum",
	AdminSplit:         "AdminSplit",
	AdminMerge:         "AdminMerge",
	Subsume:            "Subsume",
	WaitApplied:        "WaitApplied",
	GC:                 "GC",
	EndTxn:             "EndTxn",
	HeartbeatTxn:       "HeartbeatTxn",
	PushTxn:            "PushTxn",
	ResolveIntent:      "ResolveIntent",
	ResolveIntentRange: "ResolveIntentRange",
	QueryTxn:           "QueryTxn",
	Refresh:            "Refresh",
	RefreshRange:       "RefreshRange",
	QueryIntent:        "QueryIntent",
	RecoverTxn:         "RecoverTxn",
	WaitsFor:           "WaitsFor",
}

func (m Method) String() string {
	if m < 0 || m >= NumMethods {
		return "Unknown"
	}
	return methodNames[m]
}

// Flags say what a method does.
type Flags uint16

const (
	// IsAdmin: served alone in its batch, by the replica's admin code
	// rather than evaluated under latches (splits, merges, leases,
	// replica changes, consistency checks).
	IsAdmin Flags = 1 << iota
	// IsReadOnly: changes nothing; evaluated against a read-only view,
	// and safe to send again when the node serving it stopped.
	IsReadOnly
	// ReadsUserKeys: reads the user keys of its span at the batch's
	// timestamp (the timestamp cache records it; the GC threshold
	// bounds it).
	ReadsUserKeys
	// WritesUserKeys: writes the user keys of its span.
	WritesUserKeys
	// Pipelinable: a transaction's request that may be answered before
	// its Raft command applies (write pipelining), in the form
	// RequestUnion.CanPipeline accepts.
	Pipelinable
	// ServedFrozen: a range frozen by a merge still serves it.
	ServedFrozen
	// Idempotent: sending it again after an attempt that may have
	// executed is harmless (a transaction's writes are too, by their
	// sequence numbers).
	Idempotent
	// NeedsRefresh: its result depends on the values it reads, so a
	// transaction whose timestamp moves must refresh its span (reads, and
	// writes that read the current value).
	NeedsRefresh
	// BlindWrite: a write whose outcome depends on nothing it reads; a
	// transaction may hold it back and send it later.
	BlindWrite
)

var methodFlags = [NumMethods]Flags{
	Get:                IsReadOnly | ReadsUserKeys | Pipelinable | Idempotent | NeedsRefresh,
	Put:                WritesUserKeys | Pipelinable | BlindWrite,
	ConditionalPut:     WritesUserKeys | Pipelinable | NeedsRefresh,
	Increment:          WritesUserKeys | Pipelinable | NeedsRefresh,
	Delete:             WritesUserKeys | Pipelinable | NeedsRefresh | BlindWrite,
	DeleteRange:        ReadsUserKeys | WritesUserKeys | NeedsRefresh | Pipelinable,
	Scan:               IsReadOnly | ReadsUserKeys | Pipelinable | Idempotent | NeedsRefresh,
	RequestLease:       IsAdmin | ServedFrozen | Idempotent,
	TransferLease:      IsAdmin,
	ChangeReplicas:     IsAdmin,
	ComputeChecksum:    IsAdmin | Idempotent,
	CollectChecksum:    IsAdmin | ServedFrozen | Idempotent,
	AdminSplit:         IsAdmin,
	AdminMerge:         IsAdmin,
	Subsume:            IsAdmin | ServedFrozen,
	WaitApplied:        IsAdmin | ServedFrozen,
	GC:                 0,
	EndTxn:             0,
	HeartbeatTxn:       Pipelinable | Idempotent,
	PushTxn:            Idempotent,
	ResolveIntent:      Idempotent,
	ResolveIntentRange: Idempotent,
	QueryTxn:           IsReadOnly | Idempotent,
	Refresh:            IsReadOnly | ReadsUserKeys | Idempotent,
	RefreshRange:       IsReadOnly | ReadsUserKeys | Idempotent,
	QueryIntent:        IsReadOnly | Pipelinable,
	RecoverTxn:         0,
	WaitsFor:           IsReadOnly,
}

// Flags returns what m does.
func (m Method) Flags() Flags {
	if m < 0 || m >= NumMethods {
		return 0
	}
	return methodFlags[m]
}

// MaxPipelinedDeleteRangeKeys bounds the keys of a batch's DeleteRanges
// that a range answers before they apply: each is a write in flight that
// its transaction proves later, one QueryIntent per key.
const MaxPipelinedDeleteRangeKeys = 128

// pipelineCondition is a Pipelinable request that may be pipelined only
// in some forms.
type pipelineCondition interface {
	canPipeline() bool
}

// A DeleteRange is pipelined only if it lists the keys it deletes: its
// coordinator must know its writes in flight.
func (r *DeleteRangeRequest) canPipeline() bool { return r.ReturnKeys }

// CanPipeline reports whether the request may be answered before its
// writes apply (Pipelinable, in the form that allows it).
func (ru *RequestUnion) CanPipeline() bool {
	if !ru.Flags().Has(Pipelinable) {
		return false
	}
	if c, ok := ru.Inner().(pipelineCondition); ok {
		return c.canPipeline()
	}
	return true
}

// Has reports whether f holds every flag of g.
func (f Flags) Has(g Flags) bool { return f&g == g }

// Request is the request a RequestUnion holds.
type Request interface {
	proto.Message
	// Method is the request's kind.
	Method() Method
	// Addr is the key (end nil) or span [key, end) the request is
	// addressed by; ok is false for a request addressed by range ID only
	// (lease and replica changes, consistency checks, GC).
	Addr() (key, end []byte, ok bool)
}

// Inner returns the request the union holds, nil if none.
func (ru *RequestUnion) Inner() Request {
	if w, ok := ru.GetValue().(interface{ inner() Request }); ok {
		return w.inner()
	}
	return nil
}

// Method returns the kind of the request the union holds, -1 if none.
func (ru *RequestUnion) Method() Method {
	if r := ru.Inner(); r != nil {
		return r.Method()
	}
	return -1
}

// Flags returns what the request the union holds does.
func (ru *RequestUnion) Flags() Flags { return ru.Method().Flags() }

// Addr returns the key or span the request the union holds is addressed
// by (Request.Addr).
func (ru *RequestUnion) Addr() (key, end []byte, ok bool) {
	if r := ru.Inner(); r != nil {
		return r.Addr()
	}
	return nil, nil, false
}

// MakeRequestUnion wraps req in a union.
func MakeRequestUnion(req Request) *RequestUnion {
	switch r := req.(type) {
	case *GetRequest:
		return &RequestUnion{Value: &RequestUnion_Get{Get: r}}
	case *PutRequest:
		return &RequestUnion{Value: &RequestUnion_Put{Put: r}}
	case *ConditionalPutRequest:
		return &RequestUnion{Value: &RequestUnion_ConditionalPut{ConditionalPut: r}}
	case *IncrementRequest:
		return &RequestUnion{Value: &RequestUnion_Increment{Increment: r}}
	case *DeleteRequest:
		return &RequestUnion{Value: &RequestUnion_Delete{Delete: r}}
	case *DeleteRangeRequest:
		return &RequestUnion{Value: &RequestUnion_DeleteRange{DeleteRange: r}}
	case *ScanRequest:
		return &RequestUnion{Value: &RequestUnion_Scan{Scan: r}}
	case *RequestLeaseRequest:
		return &RequestUnion{Value: &RequestUnion_RequestLease{RequestLease: r}}
	case *TransferLeaseRequest:
		return &RequestUnion{Value: &RequestUnion_TransferLease{TransferLease: r}}
	case *ChangeReplicasRequest:
		return &RequestUnion{Value: &RequestUnion_ChangeReplicas{ChangeReplicas: r}}
	case *ComputeChecksumRequest:
		return &RequestUnion{Value: &RequestUnion_ComputeChecksum{ComputeChecksum: r}}
	case *CollectChecksumRequest:
		return &RequestUnion{Value: &RequestUnion_CollectChecksum{CollectChecksum: r}}
	case *AdminSplitRequest:
		return &RequestUnion{Value: &RequestUnion_AdminSplit{AdminSplit: r}}
	case *AdminMergeRequest:
		return &RequestUnion{Value: &RequestUnion_AdminMerge{AdminMerge: r}}
	case *SubsumeRequest:
		return &RequestUnion{Value: &RequestUnion_Subsume{Subsume: r}}
	case *WaitAppliedRequest:
		return &RequestUnion{Value: &RequestUnion_WaitApplied{WaitApplied: r}}
	case *GCRequest:
		return &RequestUnion{Value: &RequestUnion_Gc{Gc: r}}
	case *EndTxnRequest:
		return &RequestUnion{Value: &RequestUnion_EndTxn{EndTxn: r}}
	case *HeartbeatTxnRequest:
		return &RequestUnion{Value: &RequestUnion_HeartbeatTxn{HeartbeatTxn: r}}
	case *PushTxnRequest:
		return &RequestUnion{Value: &RequestUnion_PushTxn{PushTxn: r}}
	case *ResolveIntentRequest:
		return &RequestUnion{Value: &RequestUnion_ResolveIntent{ResolveIntent: r}}
	case *ResolveIntentRangeRequest:
		return &RequestUnion{Value: &RequestUnion_ResolveIntentRange{ResolveIntentRange: r}}
	case *QueryTxnRequest:
		return &RequestUnion{Value: &RequestUnion_QueryTxn{QueryTxn: r}}
	case *RefreshRequest:
		return &RequestUnion{Value: &RequestUnion_Refresh{Refresh: r}}
	case *RefreshRangeRequest:
		return &RequestUnion{Value: &RequestUnion_RefreshRange{RefreshRange: r}}
	case *QueryIntentRequest:
		return &RequestUnion{Value: &RequestUnion_QueryIntent{QueryIntent: r}}
	case *RecoverTxnRequest:
		return &RequestUnion{Value: &RequestUnion_RecoverTxn{RecoverTxn: r}}
	case *WaitsForRequest:
		return &RequestUnion{Value: &RequestUnion_WaitsFor{WaitsFor: r}}
	}
	return &RequestUnion{}
}

func (u *RequestUnion_Get) inner() Request         { return u.Get }
func (*GetRequest) Method() Method                 { return Get }
func (r *GetRequest) Addr() ([]byte, []byte, bool) { return r.Key, nil, true }

func (u *RequestUnion_Put) inner() Request         { return u.Put }
func (*PutRequest) Method() Method                 { return Put }
func (r *PutRequest) Addr() ([]byte, []byte, bool) { return r.Key, nil, true }

func (u *RequestUnion_ConditionalPut) inner() Request         { return u.ConditionalPut }
func (*ConditionalPutRequest) Method() Method                 { return ConditionalPut }
func (r *ConditionalPutRequest) Addr() ([]byte, []byte, bool) { return r.Key, nil, true }

func (u *RequestUnion_Increment) inner() Request         { return u.Increment }
func (*IncrementRequest) Method() Method                 { return Increment }
func (r *IncrementRequest) Addr() ([]byte, []byte, bool) { return r.Key, nil, true }

func (u *RequestUnion_Delete) inner() Request         { return u.Delete }
func (*DeleteRequest) Method() Method                 { return Delete }
func (r *DeleteRequest) Addr() ([]byte, []byte, bool) { return r.Key, nil, true }

func (u *RequestUnion_DeleteRange) inner() Request { return u.DeleteRange }
func (*DeleteRangeRequest) Method() Method         { return DeleteRange }
func (r *DeleteRangeRequest) Addr() ([]byte, []byte, bool) {
	return r.Span.GetKey(), r.Span.GetEndKey(), true
}

func (u *RequestUnion_Scan) inner() Request         { return u.Scan }
func (*ScanRequest) Method() Method                 { return Scan }
func (r *ScanRequest) Addr() ([]byte, []byte, bool) { return r.Span.GetKey(), r.Span.GetEndKey(), true }

func (u *RequestUnion_RequestLease) inner() Request         { return u.RequestLease }
func (*RequestLeaseRequest) Method() Method                 { return RequestLease }
func (r *RequestLeaseRequest) Addr() ([]byte, []byte, bool) { return nil, nil, false }

func (u *RequestUnion_TransferLease) inner() Request         { return u.TransferLease }
func (*TransferLeaseRequest) Method() Method                 { return TransferLease }
func (r *TransferLeaseRequest) Addr() ([]byte, []byte, bool) { return nil, nil, false }

func (u *RequestUnion_ChangeReplicas) inner() Request         { return u.ChangeReplicas }
func (*ChangeReplicasRequest) Method() Method                 { return ChangeReplicas }
func (r *ChangeReplicasRequest) Addr() ([]byte, []byte, bool) { return nil, nil, false }

func (u *RequestUnion_ComputeChecksum) inner() Request         { return u.ComputeChecksum }
func (*ComputeChecksumRequest) Method() Method                 { return ComputeChecksum }
func (r *ComputeChecksumRequest) Addr() ([]byte, []byte, bool) { return nil, nil, false }

func (u *RequestUnion_CollectChecksum) inner() Request         { return u.CollectChecksum }
func (*CollectChecksumRequest) Method() Method                 { return CollectChecksum }
func (r *CollectChecksumRequest) Addr() ([]byte, []byte, bool) { return nil, nil, false }

func (u *RequestUnion_AdminSplit) inner() Request { return u.AdminSplit }
func (*AdminSplitRequest) Method() Method         { return AdminSplit }
func (r *AdminSplitRequest) Addr() ([]byte, []byte, bool) {
	return r.SplitKey, nil, len(r.SplitKey) > 0
}

func (u *RequestUnion_AdminMerge) inner() Request         { return u.AdminMerge }
func (*AdminMergeRequest) Method() Method                 { return AdminMerge }
func (r *AdminMergeRequest) Addr() ([]byte, []byte, bool) { return nil, nil, false }

func (u *RequestUnion_Subsume) inner() Request         { return u.Subsume }
func (*SubsumeRequest) Method() Method                 { return Subsume }
func (r *SubsumeRequest) Addr() ([]byte, []byte, bool) { return nil, nil, false }

func (u *RequestUnion_WaitApplied) inner() Request         { return u.WaitApplied }
func (*WaitAppliedRequest) Method() Method                 { return WaitApplied }
func (r *WaitAppliedRequest) Addr() ([]byte, []byte, bool) { return nil, nil, false }

func (u *RequestUnion_Gc) inner() Request         { return u.Gc }
func (*GCRequest) Method() Method                 { return GC }
func (r *GCRequest) Addr() ([]byte, []byte, bool) { return nil, nil, false }

func (u *RequestUnion_EndTxn) inner() Request         { return u.EndTxn }
func (*EndTxnRequest) Method() Method                 { return EndTxn }
func (r *EndTxnRequest) Addr() ([]byte, []byte, bool) { return r.Key, nil, true }

func (u *RequestUnion_HeartbeatTxn) inner() Request         { return u.HeartbeatTxn }
func (*HeartbeatTxnRequest) Method() Method                 { return HeartbeatTxn }
func (r *HeartbeatTxnRequest) Addr() ([]byte, []byte, bool) { return r.Key, nil, true }

func (u *RequestUnion_PushTxn) inner() Request         { return u.PushTxn }
func (*PushTxnRequest) Method() Method                 { return PushTxn }
func (r *PushTxnRequest) Addr() ([]byte, []byte, bool) { return r.Key, nil, true }

func (u *RequestUnion_ResolveIntent) inner() Request         { return u.ResolveIntent }
func (*ResolveIntentRequest) Method() Method                 { return ResolveIntent }
func (r *ResolveIntentRequest) Addr() ([]byte, []byte, bool) { return r.Key, nil, true }

func (u *RequestUnion_ResolveIntentRange) inner() Request { return u.ResolveIntentRange }
func (*ResolveIntentRangeRequest) Method() Method         { return ResolveIntentRange }
func (r *ResolveIntentRangeRequest) Addr() ([]byte, []byte, bool) {
	return r.Span.GetKey(), r.Span.GetEndKey(), true
}

func (u *RequestUnion_QueryTxn) inner() Request         { return u.QueryTxn }
func (*QueryTxnRequest) Method() Method                 { return QueryTxn }
func (r *QueryTxnRequest) Addr() ([]byte, []byte, bool) { return r.Key, nil, true }

func (u *RequestUnion_Refresh) inner() Request         { return u.Refresh }
func (*RefreshRequest) Method() Method                 { return Refresh }
func (r *RefreshRequest) Addr() ([]byte, []byte, bool) { return r.Key, nil, true }

func (u *RequestUnion_RefreshRange) inner() Request { return u.RefreshRange }
func (*RefreshRangeRequest) Method() Method         { return RefreshRange }
func (r *RefreshRangeRequest) Addr() ([]byte, []byte, bool) {
	return r.Span.GetKey(), r.Span.GetEndKey(), true
}

func (u *RequestUnion_QueryIntent) inner() Request         { return u.QueryIntent }
func (*QueryIntentRequest) Method() Method                 { return QueryIntent }
func (r *QueryIntentRequest) Addr() ([]byte, []byte, bool) { return r.Key, nil, true }

func (u *RequestUnion_RecoverTxn) inner() Request         { return u.RecoverTxn }
func (*RecoverTxnRequest) Method() Method                 { return RecoverTxn }
func (r *RecoverTxnRequest) Addr() ([]byte, []byte, bool) { return r.Key, nil, true }

func (u *RequestUnion_WaitsFor) inner() Request         { return u.WaitsFor }
func (*WaitsForRequest) Method() Method                 { return WaitsFor }
func (r *WaitsForRequest) Addr() ([]byte, []byte, bool) { return r.Key, nil, true }

// SequencedRequest is a transaction's write, numbered in its transaction.
type SequencedRequest interface {
	Request
	GetSequence() int32
	SetSequence(seq int32)
}

func (r *PutRequest) SetSequence(seq int32)            { r.Sequence = seq }
func (r *ConditionalPutRequest) SetSequence(seq int32) { r.Sequence = seq }
func (r *IncrementRequest) SetSequence(seq int32)      { r.Sequence = seq }
func (r *DeleteRequest) SetSequence(seq int32)         { r.Sequence = seq }
func (r *DeleteRangeRequest) SetSequence(seq int32)    { r.Sequence = seq }

// LockingRequest is a read that may lock what it reads (FOR UPDATE).
type LockingRequest interface {
	Request
	GetForUpdate() bool
}
