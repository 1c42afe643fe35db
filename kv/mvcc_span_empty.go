package kv

// MVCCSpanEmpty reports whether [start, end) holds nothing at all: no
// version of any key (tombstones included) and no lock record, marker or
// not. A batch writing many keys of such a span (a bulk load's chunk into
// a new range of a table) may then skip each key's two seeks, for its
// lock and its versions (MVCCWriteOptions.KnownAbsent): two seeks for the
// batch instead of two per key.
func MVCCSpanEmpty(r Reader, start, end []byte) (bool, error) {
	llo, lhi := lockTableSpan(start, end)
	for _, b := range [2][2][]byte{{start, end}, {llo, lhi}} {
		it, err := r.newPebbleIter(EncodeMVCCKey(MVCCKey{Key: b[0]}), EncodeMVCCKey(MVCCKey{Key: b[1]}))
		if err != nil {
			return false, err
		}
		found := it.First()
		err = it.Error()
		r.releasePebbleIter(it)
		if found || err != nil {
			return false, err
		}
	}
	return true, nil
}
