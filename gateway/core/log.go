package core

import (
	"context"
	"log/slog"
)

type ctxKey int

const (
	ctxLogger ctxKey = iota
)

// LogFrom is the request's logger (it carries the request id), or
// fallback outside a request.
func LogFrom(ctx context.Context, fallback *slog.Logger) *slog.Logger {
	if l, ok := ctx.Value(ctxLogger).(*slog.Logger); ok {
		return l
	}
	return fallback
}

// WithLogger makes log the logger LogFrom finds in ctx.
func WithLogger(ctx context.Context, log *slog.Logger) context.Context {
	return context.WithValue(ctx, ctxLogger, log)
}
