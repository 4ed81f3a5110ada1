package store

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// Audit rows are written by group commit: AppendAudit queues its row and
// waits until the transaction holding it has committed. A row that finds
// nothing being written and nothing queued is committed at once by its own
// caller, with no hand-off to another goroutine (the common case, one vend
// at a time). Rows that arrive while a commit is under way queue, and one
// writer goroutine commits everything queued so far in one transaction:
// under load many vends share one commit (one turn on SQLite's single
// writer, one write of each page). A caller returns only once its row is
// durable, so nothing it answered for can be lost by a crash, and Close
// commits whatever is queued before closing the pools.

// maxAuditBatch bounds the rows of one transaction, so a backlog is
// committed in steps that keep each transaction short.
const maxAuditBatch = 256

// auditBatcher is the queue of rows waiting for the writer. Its zero value
// is ready; the writer goroutine starts with the first row.
type auditBatcher struct {
	mu      sync.Mutex
	wake    *sync.Cond    // the writer waits on it for rows, or for writing to end
	queue   []*auditBatch // the last one takes new rows until it is full or taken
	writing bool          // a commit is under way, by a caller or the writer
	ins     auditInsert   // used only by whoever set writing
	started bool
	closed  bool
	stopped chan struct{}
}

// auditBatch is one transaction's rows and, once done is closed, their ids
// or the error that kept them out.
type auditBatch struct {
	entries []AuditEntry
	ids     []int64
	errs    []error // nil when every row is in
	done    chan struct{}
}

var errStoreClosed = errors.New("store is closed")

// appendBatched commits e, or queues it and waits until it is committed.
func (s *sqlStore) appendBatched(ctx context.Context, e AuditEntry) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	b := &s.audit
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return 0, errStoreClosed
	}
	if !b.started {
		b.started = true
		b.wake = sync.NewCond(&b.mu)
		b.stopped = make(chan struct{})
		b.ins.db = s.writer
		go s.auditWriter()
	}
	if !b.writing && len(b.queue) == 0 {
		b.writing = true
		b.mu.Unlock()
		entries := [1]AuditEntry{e}
		ids, errs := s.writeAuditBatch(&b.ins, entries[:])
		b.mu.Lock()
		b.writing = false
		if len(b.queue) > 0 || b.closed {
			b.wake.Signal()
		}
		b.mu.Unlock()
		if errs != nil {
			return 0, errs[0]
		}
		return ids[0], nil
	}
	var batch *auditBatch
	if n := len(b.queue); n > 0 && len(b.queue[n-1].entries) < maxAuditBatch {
		batch = b.queue[n-1]
	} else {
		batch = &auditBatch{done: make(chan struct{})}
		b.queue = append(b.queue, batch)
	}
	i := len(batch.entries)
	batch.entries = append(batch.entries, e)
	b.wake.Signal()
	b.mu.Unlock()
	// The row is on its way whatever the caller does now; waiting for it
	// is short, and returning early would report a row that does get
	// written as failed.
	<-batch.done
	if batch.errs != nil && batch.errs[i] != nil {
		return 0, batch.errs[i]
	}
	return batch.ids[i], nil
}

// auditWriter commits queued batches, oldest first, one at a time and
// never while a caller commits its own row, until the store closes and
// nothing is queued or being written.
func (s *sqlStore) auditWriter() {
	b := &s.audit
	for {
		b.mu.Lock()
		for b.writing || (len(b.queue) == 0 && !b.closed) {
			b.wake.Wait()
		}
		if len(b.queue) == 0 {
			b.ins.close()
			b.mu.Unlock()
			close(b.stopped)
			return
		}
		batch := b.queue[0]
		b.queue[0] = nil
		b.queue = b.queue[1:]
		b.writing = true
		b.mu.Unlock()
		batch.ids, batch.errs = s.writeAuditBatch(&b.ins, batch.entries)
		b.mu.Lock()
		b.writing = false
		b.mu.Unlock()
		close(batch.done)
	}
}

// auditInsert is the writer's INSERT, prepared once for the writer's life
// rather than parsed again for every row (a third of a lone row's cost on
// SQLite).
type auditInsert struct {
	db   *sql.DB
	stmt *sql.Stmt
}

// prepared is the statement, prepared now if it is not yet (or failed
// before).
func (a *auditInsert) prepared(ctx context.Context) (*sql.Stmt, error) {
	if a.stmt == nil {
		stmt, err := a.db.PrepareContext(ctx, insertAuditSQL)
		if err != nil {
			return nil, err
		}
		a.stmt = stmt
	}
	return a.stmt, nil
}

func (a *auditInsert) close() {
	if a.stmt != nil {
		_ = a.stmt.Close()
	}
}

// writeAuditBatch inserts entries in one transaction; a lone entry's
// INSERT is a transaction of its own. Should the transaction fail, each
// row is tried alone, so one row the database refuses does not take the
// others with it.
func (s *sqlStore) writeAuditBatch(ins *auditInsert, entries []AuditEntry) ([]int64, []error) {
	// The rows belong to requests that have already happened: no caller's
	// cancellation may drop them.
	ctx := context.Background()
	ids := make([]int64, len(entries))
	stmt, err := ins.prepared(ctx)
	if err != nil {
		errs := make([]error, len(entries))
		for i := range errs {
			errs[i] = err
		}
		return ids, errs
	}
	if len(entries) > 1 {
		err := s.withTx(ctx, func(tx *sql.Tx) error {
			txStmt := tx.StmtContext(ctx, stmt)
			for i, e := range entries {
				var err error
				if ids[i], err = s.insertAuditRow(ctx, txStmt, e); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil {
			return ids, nil
		}
	}
	// A lone row, or the rows of a failed transaction one by one.
	var errs []error
	for i, e := range entries {
		id, err := s.insertAuditRow(ctx, stmt, e)
		ids[i] = id
		if err != nil {
			if errs == nil {
				errs = make([]error, len(entries))
			}
			errs[i] = err
		}
	}
	return ids, errs
}

// stopAuditWriter lets the writer commit what is queued and waits for it.
func (s *sqlStore) stopAuditWriter() {
	b := &s.audit
	b.mu.Lock()
	b.closed = true
	started := b.started
	if started {
		b.wake.Signal()
	}
	b.mu.Unlock()
	if started {
		<-b.stopped
	}
}
