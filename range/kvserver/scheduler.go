package kvserver

import (
	"context"
	"sync"

	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/stop"
)

// RangeID names a range, unique in the cluster and never reused.
type RangeID = rangepb.RangeID

// schedFlags are the kinds of work a range can have queued.
type schedFlags uint8

const (
	schedQueued     schedFlags = 1 << iota // in the queue
	schedProcessing                        // a worker has it
	schedReady                             // the RawNode may have a Ready
	schedTick                              // a tick is due
	schedRequest                           // incoming raft messages wait
)

// schedHandler does a range's work. The scheduler guarantees that at most
// one worker calls it for a given range at a time.
type schedHandler interface {
	processRequestQueue(RangeID)
	processTick(RangeID)
	processReady(RangeID)
}

// raftScheduler runs the Raft work of every replica on a store with a fixed
// pool of workers, touching only ranges that have work: an idle range costs
// nothing. A range is never processed by two workers at once, so a
// replica's Raft state needs no lock against itself beyond its own mutex.
type raftScheduler struct {
	handler schedHandler
	workers int

	mu struct {
		sync.Mutex
		cond    *sync.Cond
		queue   []RangeID
		state   map[RangeID]schedFlags
		stopped bool
	}
}

func newRaftScheduler(handler schedHandler, workers int) *raftScheduler {
	s := &raftScheduler{handler: handler, workers: workers}
	s.mu.cond = sync.NewCond(&s.mu.Mutex)
	s.mu.state = map[RangeID]schedFlags{}
	return s
}

// Start launches the workers under stopper; they exit when it stops.
func (s *raftScheduler) Start(stopper *stop.Stopper) error {
	if err := stopper.RunAsyncTask("raft-scheduler-stop", func(ctx context.Context) {
		<-ctx.Done()
		s.mu.Lock()
		s.mu.stopped = true
		s.mu.Unlock()
		s.mu.cond.Broadcast()
	}); err != nil {
		return err
	}
	for range s.workers {
		if err := stopper.RunAsyncTask("raft-scheduler-worker", func(context.Context) { s.worker() }); err != nil {
			return err
		}
	}
	return nil
}

func (s *raftScheduler) worker() {
	s.mu.Lock()
	for {
		for !s.mu.stopped && len(s.mu.queue) == 0 {
			s.mu.cond.Wait()
		}
		if s.mu.stopped {
			s.mu.Unlock()
			return
		}
		id := s.mu.queue[0]
		s.mu.queue[0] = 0
		s.mu.queue = s.mu.queue[1:]
		flags := s.mu.state[id]
		s.mu.state[id] = schedProcessing
		s.mu.Unlock()

		if flags&schedRequest != 0 {
			s.handler.processRequestQueue(id)
		}
		if flags&schedTick != 0 {
			s.handler.processTick(id)
		}
		// Requests and ticks may produce a Ready, so always look.
		s.handler.processReady(id)

		s.mu.Lock()
		flags = s.mu.state[id]
		if flags == schedProcessing {
			delete(s.mu.state, id)
			continue
		}
		// Work arrived while we processed: go round again, at the back of
		// the queue so one busy range cannot starve the others. No wake-up:
		// this worker takes the queue's head at once, and whatever else is
		// queued woke a worker when it was enqueued.
		s.mu.state[id] = flags&^schedProcessing | schedQueued
		s.mu.queue = append(s.mu.queue, id)
	}
}

func (s *raftScheduler) enqueue(id RangeID, f schedFlags) {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := s.mu.state[id]
	s.mu.state[id] = prev | f
	if prev&(schedQueued|schedProcessing) != 0 {
		return // already queued, or the worker holding it will requeue
	}
	s.mu.state[id] |= schedQueued
	s.mu.queue = append(s.mu.queue, id)
	s.mu.cond.Signal()
}

// EnqueueReady schedules a look for a Ready.
func (s *raftScheduler) EnqueueReady(id RangeID) { s.enqueue(id, schedReady) }

// EnqueueTick schedules a Raft tick.
func (s *raftScheduler) EnqueueTick(id RangeID) { s.enqueue(id, schedTick) }

// EnqueueRequest schedules the processing of queued incoming messages.
func (s *raftScheduler) EnqueueRequest(id RangeID) { s.enqueue(id, schedRequest) }
