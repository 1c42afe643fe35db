package rangepb

import "github.com/meridiandb/meridian/hlc"

// TimestampOf is ts's wire form.
func TimestampOf(ts hlc.Timestamp) *Timestamp {
	return &Timestamp{WallTime: ts.WallTime, Logical: ts.Logical}
}

// HLC is t as a clock timestamp; a nil t is the zero timestamp.
func (t *Timestamp) HLC() hlc.Timestamp {
	if t == nil {
		return hlc.Timestamp{}
	}
	return hlc.Timestamp{WallTime: t.WallTime, Logical: t.Logical}
}
