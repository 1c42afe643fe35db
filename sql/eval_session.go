package sql

import (
	"time"

	"github.com/meridiandb/meridian/sql/sem"
)

// What sem's functions of the session (current_user, set_config, ...)
// ask of it.
var _ sem.Session = (*session)(nil)

// User implements sem.Session.
func (s *session) User() string { return s.currentRole() }

// SessionUser implements sem.Session.
func (s *session) SessionUser() string { return s.user }

// BackendPID implements sem.Session.
func (s *session) BackendPID() uint32 { return s.pid }

func (s *session) QueryStart() time.Time {
	s.activity.mu.Lock()
	defer s.activity.mu.Unlock()
	return s.activity.row.QueryStart
}

// Setting implements sem.Session.
func (s *session) Setting(name string) (string, error) { return s.setting(name) }

// SetConfig implements sem.Session: set_config(name, value, is_local).
func (s *session) SetConfig(name, val string, local bool) (string, error) {
	name = canonicalSetting(name)
	if local && !s.inTxn() {
		// Its transaction ends with the statement: nothing lasts.
		return s.check(name, val, false)
	}
	return s.set(name, val, local, false)
}

// Database implements sem.Session.
func (s *session) Database() (string, bool) {
	if s.names == nil {
		return "", false
	}
	return s.names.db.Name, true
}

// SearchPath implements sem.Session.
func (s *session) SearchPath() []string {
	if s.names == nil {
		return nil
	}
	return s.names.path
}
