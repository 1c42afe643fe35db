package kv

import "github.com/cockroachdb/errors"

// QuietLogger drops Pebble's informational messages and errors, which
// reach the caller through return values anyway, and panics on a fatal one
// (Pebble's own default exits the process). Use it for tests, tools and
// nodes that keep Pebble's chatter out of their output.
type QuietLogger struct{}

// Infof discards the message.
func (QuietLogger) Infof(string, ...interface{}) {}

// Errorf discards the message.
func (QuietLogger) Errorf(string, ...interface{}) {}

// Fatalf panics with the message: Pebble cannot go on.
func (QuietLogger) Fatalf(format string, args ...interface{}) {
	panic(errors.Newf(format, args...))
}
