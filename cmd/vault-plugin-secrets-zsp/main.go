// Command vault-plugin-secrets-zsp serves the zero-standing-privilege secrets
// engine to Vault as an external plugin.
package main

import (
	"os"
	// Business hours name IANA time zones; embedding the database keeps them
	// working on hosts without one.
	_ "time/tzdata"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/vault/sdk/plugin"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/backend"
)

// version is stamped by the build (-ldflags "-X main.version=v1.2.3") and
// reported to Vault, so `vault plugin register -version` can pin it.
var version = "v0.1.0-dev"

func main() {
	// One process serves every mount of this plugin (multiplexing), so the
	// backend keeps no package-level state.
	err := plugin.ServeMultiplex(&plugin.ServeOpts{
		BackendFactoryFunc: backend.FactoryWithVersion(version),
	})
	if err != nil {
		hclog.New(&hclog.LoggerOptions{}).Error("plugin shut down", "error", err)
		os.Exit(1)
	}
}
