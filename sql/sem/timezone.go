package sem

import (
	"time"

	// The zone database, built in: a node needs no tzdata installed to
	// serve a session whose TimeZone is Europe/Berlin.
	_ "time/tzdata"
)

// ParseZone reads a time zone as SET TimeZone and AT TIME ZONE take it: a
// name from the zone database (Europe/Berlin, PST8PDT, UTC), an
// abbreviation it knows, or a POSIX offset (UTC+3, which is 3 hours west).
func ParseZone(s string) (*time.Location, error) { return parseZone(s) }
