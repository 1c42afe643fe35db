// Package pgerror attaches PostgreSQL error fields (SQLSTATE, detail, hint)
// to errors, and computes the SQLSTATE a client sees for any error.
//
// Layers below sql return typed errors and know nothing of SQLSTATE
// (STYLE.md §5). The sql layer wraps what it returns with a code where it
// knows one (WithCode); pgwire asks CodeOf at the edge, which walks the
// wrap chain for the outermost code and otherwise falls back on what the
// error is: a cancelled context is 57014, anything unknown XX000. Codes are
// carried as wrappers of github.com/cockroachdb/errors, so they survive
// further wrapping with context.
package pgerror

import (
	"context"
	"fmt"

	"github.com/cockroachdb/errors"
)

// Code is a five-character SQLSTATE.
type Code string

// The codes Meridian returns. PostgreSQL's Appendix A lists them all.
const (
	CodeSuccessfulCompletion        Code = "00000"
	CodeWarning                     Code = "01000"
	CodeConnectionException         Code = "08000"
	CodeConnectionFailure           Code = "08006"
	CodeProtocolViolation           Code = "08P01"
	CodeFeatureNotSupported         Code = "0A000"
	CodeInvalidTransactionState     Code = "25000"
	CodeInFailedSQLTransaction      Code = "25P02"
	CodeNoActiveSQLTransaction      Code = "25P01"
	CodeActiveSQLTransaction        Code = "25001"
	CodeInvalidSavepointSpec        Code = "3B001"
	CodeInvalidAuthorization        Code = "28000"
	CodeInvalidPassword             Code = "28P01"
	CodeInvalidSQLStatementName     Code = "26000"
	CodeInvalidCursorName           Code = "34000"
	CodeSerializationFailure        Code = "40001"
	CodeStatementCompletionUnknown  Code = "40003"
	CodeDeadlockDetected            Code = "40P01"
	CodeSyntaxError                 Code = "42601"
	CodeUndefinedColumn             Code = "42703"
	CodeUndefinedTable              Code = "42P01"
	CodeUndefinedFunction           Code = "42883"
	CodeDuplicatePreparedStatement  Code = "42P05"
	CodeDuplicateCursor             Code = "42P03"
	CodeDataException               Code = "22000"
	CodeInvalidTextRepresentation   Code = "22P02"
	CodeInvalidBinaryRepresentation Code = "22P03"
	CodeNumericValueOutOfRange      Code = "22003"
	CodeInvalidParameterValue       Code = "22023"
	CodeUniqueViolation             Code = "23505"
	CodeProgramLimitExceeded        Code = "54000"
	CodeOutOfMemory                 Code = "53200"
	CodeTooManyConnections          Code = "53300"
	CodeQueryCanceled               Code = "57014"
	CodeLockNotAvailable            Code = "55P03"
	CodeSnapshotTooOld              Code = "72000"
	CodeAdminShutdown               Code = "57P01"
	CodeCannotConnectNow            Code = "57P03"
	CodeInternalError               Code = "XX000"
)

// The lexer's codes for string literals.
const (
	CodeInvalidEscapeSequence           Code = "22025"
	CodeNonstandardUseOfEscapeCharacter Code = "22P06"
	CodeCharacterNotInRepertoire        Code = "22021"
)

// Severity is an error's severity as the client sees it.
type Severity string

// Severities used here.
const (
	SeverityError   Severity = "ERROR"
	SeverityFatal   Severity = "FATAL"
	SeverityWarning Severity = "WARNING"
	SeverityNotice  Severity = "NOTICE"
)

// withCode is the wrapper carrying a SQLSTATE and the optional fields.
type withCode struct {
	cause  error
	code   Code
	detail string
	hint   string
	// position is the error's place in the query, in characters from 1
	// (0: none), which psql shows as LINE n: with a caret.
	position int
	// literal is the value of the literal the error is about, when the
	// message does not show it, for finding its position (never sent).
	literal *string
}

func (w *withCode) Error() string { return w.cause.Error() }
func (w *withCode) Unwrap() error { return w.cause }

// Format implements fmt.Formatter via errors.FormatError.
func (w *withCode) Format(s fmt.State, verb rune) { errors.FormatError(w, s, verb) }

// New returns an error with code and a message.
func New(code Code, msg string) error {
	return &withCode{cause: errors.NewWithDepth(1, msg), code: code}
}

// Newf returns an error with code and a formatted message.
func Newf(code Code, format string, args ...interface{}) error {
	return &withCode{cause: errors.NewWithDepthf(1, format, args...), code: code}
}

// Unsupported is a 0A000 error: a feature Meridian does not have yet.
func Unsupported(format string, args ...interface{}) error {
	return &withCode{cause: errors.NewWithDepthf(1, format, args...), code: CodeFeatureNotSupported}
}

// WithCode attaches code to err (nil stays nil). An outer code wins over
// an inner one.
func WithCode(err error, code Code) error {
	if err == nil {
		return nil
	}
	return &withCode{cause: err, code: code}
}

// WithDetail attaches a DETAIL field to err.
func WithDetail(err error, detail string) error {
	if err == nil {
		return nil
	}
	return &withCode{cause: err, detail: detail}
}

// WithHint attaches a HINT field to err.
func WithHint(err error, hint string) error {
	if err == nil {
		return nil
	}
	return &withCode{cause: err, hint: hint}
}

// CodeOf returns the SQLSTATE a client sees for err: the outermost code
// attached to it, else one derived from what it is, else XX000.
func CodeOf(err error) Code {
	for e := err; e != nil; e = errors.UnwrapOnce(e) {
		if w, ok := e.(*withCode); ok && w.code != "" {
			return w.code
		}
	}
	switch {
	case err == nil:
		return CodeSuccessfulCompletion
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return CodeQueryCanceled
	}
	return CodeInternalError
}

// DetailOf returns the outermost DETAIL attached to err.
func DetailOf(err error) string {
	for e := err; e != nil; e = errors.UnwrapOnce(e) {
		if w, ok := e.(*withCode); ok && w.detail != "" {
			return w.detail
		}
	}
	return ""
}

// WithPosition attaches the error's place in the query text (characters
// from 1) to err.
func WithPosition(err error, position int) error {
	if err == nil {
		return nil
	}
	return &withCode{cause: err, position: position}
}

// PositionOf returns the outermost position attached to err, 0 if none.
func PositionOf(err error) int {
	for e := err; e != nil; e = errors.UnwrapOnce(e) {
		if w, ok := e.(*withCode); ok && w.position != 0 {
			return w.position
		}
	}
	return 0
}

// WithLiteral attaches to err the value of the string literal it is
// about, which its message does not show: the position of the literal in
// the query is found by it.
func WithLiteral(err error, value string) error {
	if err == nil {
		return nil
	}
	return &withCode{cause: err, literal: &value}
}

// LiteralOf returns the outermost literal attached to err.
func LiteralOf(err error) (string, bool) {
	for e := err; e != nil; e = errors.UnwrapOnce(e) {
		if w, ok := e.(*withCode); ok && w.literal != nil {
			return *w.literal, true
		}
	}
	return "", false
}

// HintOf returns the outermost HINT attached to err.
func HintOf(err error) string {
	for e := err; e != nil; e = errors.UnwrapOnce(e) {
		if w, ok := e.(*withCode); ok && w.hint != "" {
			return w.hint
		}
	}
	return ""
}
