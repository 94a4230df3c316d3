// Command vault builds the pinned Vault release from its Go module, for
// machines that have no vault binary on PATH.
package main

import (
	"os"

	"github.com/hashicorp/vault/command"
)

func main() {
	os.Exit(command.Run(os.Args[1:]))
}
