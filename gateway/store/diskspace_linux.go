package store

import "golang.org/x/sys/unix"

// minFreeBytes is the room the SQLite store wants on its file system to
// call itself ready: below it the next checkpoint or migration may fail.
const minFreeBytes = 1 << 20

// checkDisk reports ErrReadOnly or ErrDiskFull for the file system that
// holds dir.
func checkDisk(dir string) error {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return err
	}
	if st.Flags&unix.ST_RDONLY != 0 {
		return ErrReadOnly
	}
	if st.Bavail*uint64(st.Bsize) < minFreeBytes {
		return ErrDiskFull
	}
	return nil
}
