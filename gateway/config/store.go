package config

import (
	"strings"

	"fedgate/gateway/store"
)

// Storage drivers.
const (
	StoreDriverSQLite   = "sqlite"
	StoreDriverPostgres = "postgres"
)

// validate checks the store section. Messages never repeat the DSN: it may
// hold a password.
func (s Store) validate(add func(path, format string, args ...any)) {
	switch s.Driver {
	case StoreDriverSQLite:
		if s.DSN != "" {
			add("store.dsn", "is only used by the postgres driver (store.driver is sqlite; unset FEDGATE_STORE_DSN or set driver: postgres)")
		}
	case StoreDriverPostgres:
		if strings.TrimSpace(s.DSN) == "" {
			add("store.dsn", "is required for the postgres driver (a postgres:// URL or key=value pairs; or set FEDGATE_STORE_DSN)")
		} else if err := store.ParsePostgresDSN(s.DSN); err != nil {
			add("store.dsn", "%v", err)
		}
	default:
		add("store.driver", "unknown driver %q (supported: sqlite, postgres)", s.Driver)
	}
}
