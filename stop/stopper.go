// Package stop owns goroutines. Every long-lived goroutine in Meridian is
// started through a Stopper, under a name, and ends when the Stopper stops:
// Stop cancels the context every task was given and waits for all of them to
// return. Nothing is left running behind a stopped component, and a test can
// list what is still running by name.
package stop

import (
	"context"
	"sort"
	"sync"

	"github.com/cockroachdb/errors"
)

// ErrStopping is returned by RunAsyncTask once Stop has begun.
var ErrStopping = errors.New("stopper is stopping")

// Stopper starts, tracks and stops named tasks. It is safe for concurrent
// use. The zero value is not usable; call NewStopper.
type Stopper struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu struct {
		sync.Mutex
		stopping bool
		// tasks counts running tasks by name.
		tasks   map[string]int
		closers []func()
	}
}

// NewStopper returns a running Stopper.
func NewStopper() *Stopper {
	s := &Stopper{}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.mu.tasks = map[string]int{}
	return s
}

// RunAsyncTask runs f in a new goroutine named name. f's context is
// cancelled when Stop begins; f must return promptly after that. It returns
// ErrStopping, without running f, once Stop has begun.
func (s *Stopper) RunAsyncTask(name string, f func(ctx context.Context)) error {
	s.mu.Lock()
	if s.mu.stopping {
		s.mu.Unlock()
		return errors.Wrapf(ErrStopping, "cannot start task %q", name)
	}
	s.mu.tasks[name]++
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.finish(name)
		f(s.ctx)
	}()
	return nil
}

// RunTask runs f synchronously as a task: Stop waits for it, and its
// context is cancelled when Stop begins (as well as when ctx ends). It
// returns ErrStopping, without running f, once Stop has begun. Request
// handlers use it so that nothing they touch is closed under them.
func (s *Stopper) RunTask(ctx context.Context, name string, f func(ctx context.Context) error) error {
	s.mu.Lock()
	if s.mu.stopping {
		s.mu.Unlock()
		return errors.Wrapf(ErrStopping, "cannot run %q", name)
	}
	s.mu.tasks[name]++
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.finish(name)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	unregister := context.AfterFunc(s.ctx, cancel)
	defer unregister()
	return f(ctx)
}

func (s *Stopper) finish(name string) {
	s.mu.Lock()
	if s.mu.tasks[name]--; s.mu.tasks[name] == 0 {
		delete(s.mu.tasks, name)
	}
	s.mu.Unlock()
	s.wg.Done()
}

// AddCloser registers f to run after every task has returned, in reverse
// order of registration: it closes what the tasks used (stores, listeners).
// If the stopper is already stopping, f runs at once.
func (s *Stopper) AddCloser(f func()) {
	s.mu.Lock()
	if s.mu.stopping {
		s.mu.Unlock()
		f()
		return
	}
	s.mu.closers = append(s.mu.closers, f)
	s.mu.Unlock()
}

// ShouldQuiesce is closed when Stop begins.
func (s *Stopper) ShouldQuiesce() <-chan struct{} { return s.ctx.Done() }

// Context returns a context cancelled when Stop begins.
func (s *Stopper) Context() context.Context { return s.ctx }

// Stop cancels every task, waits for all of them to return, then runs the
// closers. It is idempotent; concurrent callers all wait.
func (s *Stopper) Stop() {
	s.mu.Lock()
	first := !s.mu.stopping
	s.mu.stopping = true
	closers := s.mu.closers
	s.mu.closers = nil
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	if first {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
}

// RunningTasks returns the names of the tasks still running, sorted, each
// once per running instance.
func (s *Stopper) RunningTasks() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for name, n := range s.mu.tasks {
		for range n {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}
