// Package pgwire serves the PostgreSQL frontend/backend protocol, version
// 3.0 (PostgreSQL documentation, chapter "Frontend/Backend Protocol"), so
// that psql, pgx, lib/pq, JDBC and every other PostgreSQL driver can talk to
// Meridian.
//
// A Server accepts connections; each connection runs on its own goroutine
// (owned by the server's stopper): the startup exchange (SSL and GSSAPI
// encryption requests, cancel requests, the startup message,
// authentication), then the message loop of the simple query protocol
// (Query) and the extended one (Parse, Bind, Describe, Execute, Close,
// Sync, Flush). Messages are decoded and encoded by
// github.com/jackc/pgx/v5/pgproto3; what a statement means is the
// business of the Session the Executor makes for the connection (the sql
// package).
//
// Every error a client sees is an ErrorResponse with a SQLSTATE (see
// sql/pgerror); malformed messages end the connection with 08P01, never a
// panic. In the extended protocol an error makes the server skip messages
// up to the next Sync, as the protocol requires, so a pipelining driver
// gets exactly one error and one ReadyForQuery.
package pgwire

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"encoding/binary"
	"net"
	"sync"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/stop"
)

// Config configures a Server. Zero fields take the documented defaults.
type Config struct {
	// Executor makes the session behind each connection. Required.
	Executor Executor
	// Auth checks who may connect. Nil: anyone, as any user (trust).
	Auth Authenticator
	// TLS, when set, lets clients upgrade with an SSLRequest; nil answers
	// SSLRequest with 'N' and the client goes on in plaintext (or gives up,
	// with sslmode=require).
	TLS *tls.Config
	// RequireTLS refuses connections that do not upgrade to TLS. A client
	// certificate the TLS config verified, whose common name is the user
	// connecting, authenticates that user without a password.
	RequireTLS bool
	// MaxMessageSize bounds one message from a client. Default 64 MiB.
	MaxMessageSize int
	// MaxConnections bounds concurrent connections; more are refused with
	// 53300. Default 1000.
	MaxConnections int
	// ServerVersion is reported as server_version. Default "15.0.0": psql
	// and drivers choose their catalog queries and features by it.
	ServerVersion string
	// Observer, when set, is told of connections and statements (the
	// node's metrics).
	Observer Observer
	// NodeID, if set (below 2^11), is put in the top bits of every
	// process ID the server hands out, so that process IDs are unique in
	// the cluster and name their node (NodeOfPID).
	NodeID int32
	// ForwardCancel, if set, passes on a CancelRequest for a process ID
	// that names another node (a client behind a load balancer sends its
	// cancel to whichever node it reaches); that node's server checks the
	// key (Server.Cancel).
	ForwardCancel func(node int32, pid, secret uint32)
}

// pidNodeShift is where a process ID keeps its node's ID.
const pidNodeShift = 20

// NodeOfPID returns the node whose server handed out process ID pid;
// false if none is named (a server without a NodeID).
func NodeOfPID(pid uint32) (int32, bool) {
	n := int32(pid >> pidNodeShift)
	return n, n > 0
}

// Observer watches a server's connections and statements. Its methods are
// called from the connections' goroutines, concurrently.
type Observer interface {
	ConnOpened()
	ConnClosed()
	// StatementDone reports a statement that completed with tag (its
	// command tag, e.g. "INSERT 0 1") or failed (err set) after d.
	StatementDone(tag string, d time.Duration, err error)
}

type noObserver struct{}

func (noObserver) ConnOpened()                                {}
func (noObserver) ConnClosed()                                {}
func (noObserver) StatementDone(string, time.Duration, error) {}

func (c *Config) setDefaults() {
	if c.MaxMessageSize == 0 {
		c.MaxMessageSize = 64 << 20
	}
	if c.MaxConnections == 0 {
		c.MaxConnections = 1000
	}
	if c.ServerVersion == "" {
		c.ServerVersion = "15.0.0"
	}
	if c.Observer == nil {
		c.Observer = noObserver{}
	}
}

// Server serves PostgreSQL clients. It is safe for concurrent use.
type Server struct {
	cfg     Config
	stopper *stop.Stopper
	// mockSecret derives the salts of the made-up verifiers that
	// unknown users authenticate against.
	mockSecret [32]byte

	mu struct {
		sync.Mutex
		// conns are the live connections by process ID, for cancel
		// requests.
		conns map[uint32]*conn
		// listeners are closed by a drain.
		listeners []net.Listener
		// draining: connections close as soon as they are idle outside
		// a transaction block, and new ones are refused.
		draining bool
		// gone is signalled when a connection ends during a drain.
		gone chan struct{}
	}
}

// NewServer returns a server; Serve starts it on a listener.
func NewServer(cfg Config, stopper *stop.Stopper) (*Server, error) {
	cfg.setDefaults()
	if cfg.Executor == nil {
		return nil, errors.New("pgwire: Config.Executor is required")
	}
	s := &Server{cfg: cfg, stopper: stopper, mockSecret: newMockSecret()}
	s.mu.conns = map[uint32]*conn{}
	return s, nil
}

// Serve accepts connections on ln until the stopper stops, which also
// closes ln and every connection.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	s.mu.listeners = append(s.mu.listeners, ln)
	s.mu.Unlock()
	if err := s.stopper.RunAsyncTask("pgwire-close-listener", func(ctx context.Context) {
		<-ctx.Done()
		_ = ln.Close()
	}); err != nil {
		_ = ln.Close()
		return err
	}
	return s.stopper.RunAsyncTask("pgwire-accept", func(ctx context.Context) {
		for {
			nc, err := ln.Accept()
			if err != nil {
				if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
					return
				}
				// Out of file descriptors, say: wait a moment rather than
				// spin, and keep serving.
				select {
				case <-ctx.Done():
					return
				case <-time.After(10 * time.Millisecond):
				}
				continue
			}
			if err := s.stopper.RunAsyncTask("pgwire-conn", func(ctx context.Context) {
				s.serveConn(ctx, nc)
			}); err != nil {
				_ = nc.Close()
				return
			}
		}
	})
}

// register assigns c a process ID and secret key for cancel requests, or
// reports that the server is full.
func (s *Server) register(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.mu.conns) >= s.cfg.MaxConnections {
		return false
	}
	for {
		var b [8]byte
		_, _ = rand.Read(b[:])
		pid := binary.BigEndian.Uint32(b[:4]) &^ (1 << 31)
		if n := s.cfg.NodeID; n > 0 && n < 1<<(31-pidNodeShift) {
			pid = uint32(n)<<pidNodeShift | pid&(1<<pidNodeShift-1)
		} else {
			// Random, below every node's: NodeOfPID names no node.
			pid &= 1<<pidNodeShift - 1
		}
		if pid&(1<<pidNodeShift-1) == 0 || s.mu.conns[pid] != nil {
			continue
		}
		c.pid, c.secret = pid, binary.BigEndian.Uint32(b[4:])
		s.mu.conns[pid] = c
		return true
	}
}

func (s *Server) unregister(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.conns[c.pid] == c {
		delete(s.mu.conns, c.pid)
	}
	if s.mu.gone != nil {
		select {
		case s.mu.gone <- struct{}{}:
		default:
		}
	}
}

// Drain stops accepting connections and closes each open one as soon as
// it is idle outside a transaction block: a statement that runs finishes
// and its client gets its answer; then the connection closes cleanly. At
// ctx's end the connections left are closed wherever they are. It returns
// how many connections it had to close that way.
func (s *Server) Drain(ctx context.Context) int {
	s.mu.Lock()
	s.mu.draining = true
	s.mu.gone = make(chan struct{}, 1)
	for _, ln := range s.mu.listeners {
		_ = ln.Close()
	}
	gone := s.mu.gone
	s.mu.Unlock()
	for {
		s.mu.Lock()
		conns := make([]*conn, 0, len(s.mu.conns))
		for _, c := range s.mu.conns {
			conns = append(conns, c)
		}
		s.mu.Unlock()
		if len(conns) == 0 {
			return 0
		}
		for _, c := range conns {
			c.closeIfIdle()
		}
		select {
		case <-gone:
		case <-ctx.Done():
			for _, c := range conns {
				_ = c.nc.Close()
			}
			return len(conns)
		}
	}
}

func (s *Server) isDraining() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.draining
}

// Cancel is a CancelRequest another node passed on (Config.ForwardCancel):
// the same check of the key, on the connection here.
func (s *Server) Cancel(pid, secret uint32) {
	s.mu.Lock()
	c := s.mu.conns[pid]
	s.mu.Unlock()
	if c != nil {
		s.cancelConn(c, secret)
	}
}

// cancel cancels the running query of the connection with this process ID
// and secret key. A wrong key does nothing, silently, as in PostgreSQL: the
// requester learns nothing.
func (s *Server) cancel(pid, secret uint32) {
	s.mu.Lock()
	c := s.mu.conns[pid]
	s.mu.Unlock()
	if c == nil {
		if node, ok := NodeOfPID(pid); ok && node != s.cfg.NodeID && s.cfg.ForwardCancel != nil {
			s.cfg.ForwardCancel(node, pid, secret)
		}
		return
	}
	s.cancelConn(c, secret)
}

// cancelConn cancels c's running query if secret is its key.
func (s *Server) cancelConn(c *conn, secret uint32) {
	var a, b [4]byte
	binary.BigEndian.PutUint32(a[:], c.secret)
	binary.BigEndian.PutUint32(b[:], secret)
	if subtle.ConstantTimeCompare(a[:], b[:]) == 1 {
		c.cancelQuery()
	}
}

// NumConnections returns the number of connections past startup.
func (s *Server) NumConnections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.mu.conns)
}
