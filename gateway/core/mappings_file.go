package core

// fileState is what this replica knows of its mappings file between
// reloads.
type fileState struct{}
