package stop

import (
	"context"
	"testing"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/stop/leaktest"
)

func TestMain(m *testing.M) { leaktest.VerifyNoLeaks(m) }

func TestStopperStopsTasks(t *testing.T) {
	s := NewStopper()
	started := make(chan struct{})
	for range 3 {
		if err := s.RunAsyncTask("worker", func(ctx context.Context) {
			started <- struct{}{}
			<-ctx.Done()
		}); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		<-started
	}
	if got := s.RunningTasks(); len(got) != 3 || got[0] != "worker" {
		t.Fatalf("running tasks: %v", got)
	}
	var order []string
	s.AddCloser(func() { order = append(order, "first") })
	s.AddCloser(func() { order = append(order, "second") })
	s.Stop()
	if got := s.RunningTasks(); len(got) != 0 {
		t.Fatalf("tasks still running after Stop: %v", got)
	}
	if len(order) != 2 || order[0] != "second" || order[1] != "first" {
		t.Fatalf("closers ran as %v, want reverse registration order", order)
	}
	s.Stop() // idempotent
	if len(order) != 2 {
		t.Fatal("closers ran twice")
	}
}

func TestStopperRefusesTasksWhenStopping(t *testing.T) {
	s := NewStopper()
	s.Stop()
	err := s.RunAsyncTask("late", func(context.Context) { t.Error("ran after Stop") })
	if !errors.Is(err, ErrStopping) {
		t.Fatalf("want ErrStopping, got %v", err)
	}
	select {
	case <-s.ShouldQuiesce():
	default:
		t.Fatal("ShouldQuiesce not closed after Stop")
	}
	ran := false
	s.AddCloser(func() { ran = true })
	if !ran {
		t.Fatal("a closer added after Stop must run at once")
	}
}

func TestStopperRunTask(t *testing.T) {
	s := NewStopper()
	inTask := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		_ = s.RunTask(context.Background(), "request", func(ctx context.Context) error {
			close(inTask)
			<-ctx.Done() // cancelled by Stop
			return nil
		})
	}()
	<-inTask
	go func() { s.Stop(); close(stopped) }()
	<-stopped // Stop returned, so the task had finished
	if err := s.RunTask(context.Background(), "late", func(context.Context) error { return nil }); !errors.Is(err, ErrStopping) {
		t.Fatalf("want ErrStopping, got %v", err)
	}
}
