package pgerror

import (
	"context"
	"testing"

	"github.com/cockroachdb/errors"
)

func TestCodeOf(t *testing.T) {
	base := New(CodeUniqueViolation, "duplicate key")
	for _, tc := range []struct {
		err  error
		want Code
	}{
		{nil, CodeSuccessfulCompletion},
		{errors.New("boom"), CodeInternalError},
		{base, CodeUniqueViolation},
		{errors.Wrap(base, "inserting"), CodeUniqueViolation},
		{WithCode(errors.Wrap(base, "retrying"), CodeSerializationFailure), CodeSerializationFailure},
		{WithHint(base, "try another key"), CodeUniqueViolation},
		{errors.Wrap(context.Canceled, "scan"), CodeQueryCanceled},
		{WithCode(context.Canceled, CodeAdminShutdown), CodeAdminShutdown},
	} {
		if got := CodeOf(tc.err); got != tc.want {
			t.Errorf("CodeOf(%v) = %s, want %s", tc.err, got, tc.want)
		}
	}
	err := errors.Wrap(WithDetail(WithHint(base, "hint"), "detail"), "ctx")
	if DetailOf(err) != "detail" || HintOf(err) != "hint" || err.Error() != "ctx: duplicate key" {
		t.Fatalf("fields: %q %q %q", DetailOf(err), HintOf(err), err.Error())
	}
	if WithCode(nil, CodeInternalError) != nil || WithHint(nil, "h") != nil || WithDetail(nil, "d") != nil {
		t.Fatal("wrapping nil made an error")
	}
}
