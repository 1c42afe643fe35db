package kv

func runCrashHelperIfChild() bool { return false }
