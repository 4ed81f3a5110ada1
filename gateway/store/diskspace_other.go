//go:build !linux

package store

// checkDisk is a no-op where free space is not checked; write errors still
// classify as Unwritable.
func checkDisk(string) error { return nil }
