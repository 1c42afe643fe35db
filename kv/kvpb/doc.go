// Package kvpb holds the MVCC layer's types that the layers above it use
// without its engine: transaction metadata and statuses, locks, spans,
// values, the keyspace's prefixes and the MVCC layer's typed errors.
// Package kv, the engine, keeps their names; the transaction layer, the
// KV client and the RPC codecs import this package and not Pebble.
package kvpb
