package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mesadeservicios/mesa/auth"
	"github.com/mesadeservicios/mesa/config"
	"github.com/mesadeservicios/mesa/desk"
	"github.com/mesadeservicios/mesa/mailin"
)

// authPolicy is the auth section as a policy (desk.Config.Auth).
func authPolicy(cfg *config.Config) auth.Policy {
	return auth.Policy{Provider: auth.Provider(cfg.Auth.Provider), TrustedAuthServID: cfg.Auth.TrustedAuthServID,
		TenantID: cfg.Auth.TenantID}
}

// verpOf is the per-message return path of the configuration: zero
// (off) unless auth.verp is set.
func verpOf(cfg *config.Config) auth.VERP {
	if !cfg.Auth.VERP {
		return auth.VERP{}
	}
	return auth.VERP{Address: fromAddress(cfg), Secret: []byte(cfg.Auth.BounceSecret)}
}

// explainLine is one line of `mesa auth explain --json`: exactly these
// fields, an interface operators rely on.
type explainLine struct {
	File          string `json:"file"`
	From          string `json:"from"`
	Identity      string `json:"identity"`
	Authenticated bool   `json:"authenticated"`
	Rule          string `json:"rule"`
	Reason        string `json:"reason"`
}

// authExplain is `mesa auth explain [--json] FILE.eml…`: the identity the
// desk would attribute to each mail and why, under the configuration's
// auth section — the same policy desk.identity applies.
func authExplain() command {
	var asJSON *bool
	return command{
		args:  true,
		flags: func(fs *flag.FlagSet) { asJSON = fs.Bool("json", false, "one JSON object per file") },
		run: func(ctx context.Context, e *env) int {
			files, err := emlFiles(e.args)
			if err != nil || len(files) == 0 {
				fmt.Fprintln(e.stderr, "mesa auth explain: give .eml files or directories that hold them", err)
				return exitConfig
			}
			policy := desk.Config{Auth: authPolicy(e.cfg), TrustedAuthServID: e.cfg.Auth.TrustedAuthServID,
				AllowUnauthenticatedCommands: !e.cfg.Auth.Require,
				Addresses:                    append(append([]string(nil), e.cfg.Desk.Addresses...), fromAddress(e.cfg))}.AuthPolicy()
			if !*asJSON {
				fmt.Fprintf(e.stdout, "provider %s", policy.Provider)
				switch {
				case policy.Provider == auth.RFC8601:
					fmt.Fprintf(e.stdout, ", trusted authserv-id %q", policy.TrustedAuthServID)
				case policy.Provider == auth.Microsoft365 && policy.TenantID != "":
					fmt.Fprintf(e.stdout, ", tenant %s", policy.TenantID)
				}
				if policy.Off {
					fmt.Fprint(e.stdout, " — auth.require is false")
				}
				fmt.Fprintln(e.stdout)
			}
			status := exitOK
			enc := json.NewEncoder(e.stdout)
			for _, f := range files {
				raw, err := os.ReadFile(f)
				if err != nil {
					fmt.Fprintln(e.stderr, "mesa auth explain:", err)
					status = exitFail
					continue
				}
				in, err := mailin.Parse(raw)
				if err != nil {
					fmt.Fprintf(e.stderr, "mesa auth explain: %s: %v\n", f, err)
					status = exitFail
					continue
				}
				v := policy.Explain(in)
				if *asJSON {
					enc.Encode(explainLine{File: f, From: v.From, Identity: v.Identity, Authenticated: v.Authenticated,
						Rule: v.Rule, Reason: v.Reason})
					continue
				}
				verdict := "NOT authenticated"
				if v.Authenticated {
					verdict = "authenticated"
				}
				who := v.Identity
				if who == "" {
					who = "(nobody)"
				}
				fmt.Fprintf(e.stdout, "%s\n  from %s → identity %s: %s by rule %s\n  %s\n", filepath.Base(f), v.From, who, verdict, v.Rule, v.Reason)
			}
			return status
		},
	}
}
