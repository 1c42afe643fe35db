package kv

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Metrics are an engine's counters, for the store's metrics endpoint.
type Metrics struct {
	// CompactionCount is the number of compactions since open;
	// CompactionDebt estimates the bytes left to compact.
	CompactionCount int64
	CompactionDebt  uint64
	// FlushCount is the number of memtable flushes since open.
	FlushCount int64
	// ReadAmp is the read amplification: memtables plus L0 sublevels plus
	// non-empty lower levels.
	ReadAmp int
	// L0Files is the number of SSTs in L0.
	L0Files int64
	// WALFsyncCount and WALFsyncLatencySum describe the WAL's fsyncs.
	WALFsyncCount      uint64
	WALFsyncLatencySum time.Duration
	// WALBytesWritten is the WAL's physical bytes written.
	WALBytesWritten uint64
	// BlockCacheHits and BlockCacheMisses count block cache lookups.
	BlockCacheHits, BlockCacheMisses int64
	// DiskUsage is the store's on-disk size in bytes.
	DiskUsage uint64
	// Corruptions counts on-disk corruption detected by reads.
	Corruptions int64
}

// WALFsyncLatencyMean is the mean latency of one WAL fsync.
func (m Metrics) WALFsyncLatencyMean() time.Duration {
	if m.WALFsyncCount == 0 {
		return 0
	}
	return m.WALFsyncLatencySum / time.Duration(m.WALFsyncCount)
}

func (e *pebbleEngine) Metrics() Metrics {
	pm := e.db.Metrics()
	m := Metrics{
		CompactionCount:  pm.Compact.Count,
		CompactionDebt:   pm.Compact.EstimatedDebt,
		FlushCount:       pm.Flush.Count,
		ReadAmp:          pm.ReadAmp(),
		L0Files:          pm.Levels[0].TablesCount,
		WALBytesWritten:  pm.WAL.BytesWritten,
		BlockCacheHits:   pm.BlockCache.Hits,
		BlockCacheMisses: pm.BlockCache.Misses,
		DiskUsage:        pm.DiskSpaceUsage(),
		Corruptions:      e.corruptions.Load(),
	}
	if h, ok := pm.LogWriter.FsyncLatency.(prometheus.Metric); ok && h != nil {
		var d dto.Metric
		if err := h.Write(&d); err == nil && d.Histogram != nil {
			m.WALFsyncCount = d.Histogram.GetSampleCount()
			// Pebble records fsync latencies in nanoseconds.
			m.WALFsyncLatencySum = time.Duration(d.Histogram.GetSampleSum())
		}
	}
	return m
}
