package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"time"

	"fedgate/exchange/secret"
	"fedgate/gateway/config"
	"fedgate/gateway/core"
	"fedgate/gateway/store"
)

// cmdMappings is `fedgate mappings export|apply`: the live providers, pools
// and rules as a YAML file, for review and GitOps.
func cmdMappings(ctx context.Context, args []string, env environ, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "export" && args[0] != "apply" && args[0] != "diff") {
		fmt.Fprintln(stderr, "usage: fedgate mappings export --config FILE [--out FILE]\n       fedgate mappings apply --config FILE [--dry-run] [--comment TEXT] MAPPINGS.yaml\n       fedgate mappings diff --config FILE")
		return 2
	}
	sub := args[0]
	fs, cfgPath := newFlags("mappings "+sub, stderr)
	out := fs.String("out", "", "write to this file instead of stdout (export)")
	dryRun := fs.Bool("dry-run", false, "show the changes without applying them (apply)")
	comment := fs.String("comment", "", "why, recorded in history and the audit log (apply)")
	// Flags may come before or after the file name.
	var files []string
	for rest := args[1:]; ; {
		if fs.Parse(rest) != nil {
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		files, rest = append(files, fs.Arg(0)), fs.Args()[1:]
	}
	f, st, box, ok := openConfigured(ctx, "mappings", *cfgPath, env, stderr)
	if !ok {
		return 1
	}
	defer st.Close()

	if sub == "diff" {
		return mappingsDiff(ctx, f, st, box, *cfgPath, stdout, stderr)
	}
	if sub == "export" {
		w := stdout
		if *out != "" {
			file, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
			if err != nil {
				fmt.Fprintf(stderr, "fedgate mappings export: %v\n", err)
				return 1
			}
			defer file.Close()
			w = file
		}
		v, err := core.ExportMappings(ctx, st, box, w)
		if err != nil {
			fmt.Fprintf(stderr, "fedgate mappings export: %v\n", err)
			return 1
		}
		if *out != "" {
			fmt.Fprintf(stdout, "wrote version %d to %s\n", v, *out)
		}
		return 0
	}

	if len(files) != 1 {
		fmt.Fprintln(stderr, "fedgate mappings apply: give one mappings file (or - for stdin)")
		return 2
	}
	if f.MappingsSource.Source == config.MappingsFromFile {
		fmt.Fprintf(stderr, "%s: mappings.source is file: the configuration file holds the providers, pools and rules; change it and restart fedgate instead (nothing applied)\n", *cfgPath)
		return 1
	}
	var in io.Reader = os.Stdin
	if name := files[0]; name != "-" {
		file, err := os.Open(name)
		if err != nil {
			fmt.Fprintf(stderr, "fedgate mappings apply: %v\n", err)
			return 1
		}
		defer file.Close()
		in = file
	}
	plan, err := core.PlanMappings(ctx, st, box, f, in)
	if err != nil {
		fmt.Fprintf(stderr, "fedgate mappings apply: %v\n", err)
		return 1
	}
	if len(plan.Problems) > 0 {
		fmt.Fprintf(stderr, "%s: %v\nnothing applied\n", files[0], plan.Problems)
		return 1
	}
	if plan.Changes() == 0 {
		fmt.Fprintf(stdout, "no changes: version %d already holds these mappings\n", plan.From)
		return 0
	}
	fmt.Fprintf(stdout, "changes against live version %d:\n%s", plan.From, plan.DiffText())
	if *dryRun {
		fmt.Fprintf(stdout, "dry run: %d change(s) not applied\n", plan.Changes())
		return 0
	}
	v, err := core.ApplyMappings(ctx, st, box, plan, cliActor(), *comment)
	if errors.Is(err, store.ErrConflict) {
		fmt.Fprintln(stderr, "fedgate mappings apply: the mappings changed while this ran; nothing applied, run it again")
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "fedgate mappings apply: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "applied as version %d; running gateways pick it up within reload_interval\n", v)
	return 0
}

// mappingsDiff shows how the file's mappings differ from the live ones,
// and what serve does about it under mappings.source.
func mappingsDiff(ctx context.Context, f *config.File, st store.Store, box *secret.Box, cfgPath string, stdout, stderr io.Writer) int {
	live, diff, err := core.DiffFileMappings(ctx, st, box, f)
	if errors.Is(err, store.ErrNotFound) {
		fmt.Fprintf(stdout, "the store holds no mappings yet: fedgate serve seeds them from %s\n", cfgPath)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "fedgate mappings diff: %s: %v\n", cfgPath, err)
		return 1
	}
	if len(diff) == 0 {
		fmt.Fprintf(stdout, "%s holds the live mappings (version %d)\n", cfgPath, live.Version)
		return 0
	}
	fmt.Fprintf(stdout, "live version %d (%s by %s, %s) -> %s:\n%s", live.Version, live.Source, live.Author,
		live.CreatedAt.UTC().Format(time.RFC3339), cfgPath, core.FormatDiff(diff))
	if f.MappingsSource.Source == config.MappingsFromFile {
		fmt.Fprintf(stdout, "mappings.source is file: the next start of fedgate serve applies %s\n", cfgPath)
	} else {
		fmt.Fprintf(stdout, "mappings.source is store: %s is NOT applied; the live version stays (fedgate mappings apply, the admin UI or mappings.source: file change that)\n", cfgPath)
	}
	return 3
}

func cliActor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "cli:" + u.Username
	}
	return "cli"
}
