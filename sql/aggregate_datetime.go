package sql

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/duration"
	"github.com/meridiandb/meridian/sql/sem"
)

// sum and avg of intervals: a field-by-field sum (interval_pl, 22008 on
// overflow), and that sum divided by the count as interval_div does.

func accumulateInterval(s *aggState, d tree.Datum) error {
	if s.acc == nil {
		s.acc = d
		return nil
	}
	sum, err := sem.IntervalAdd(s.acc.(*tree.DInterval).Duration, d.(*tree.DInterval).Duration, 1)
	if err != nil {
		return err
	}
	s.acc = sum
	return nil
}

func finishInterval(s *aggState, a aggSpec) (tree.Datum, error) {
	if a.kind == "sum" {
		return s.acc, nil
	}
	var sum duration.Duration
	if s.acc != nil {
		sum = s.acc.(*tree.DInterval).Duration
	}
	return sem.IntervalDiv(sum, float64(s.count))
}
