package backend

import (
	"context"
	"fmt"

	"github.com/hashicorp/vault/sdk/logical"
)

// entityGroups returns the names of the identity groups entityID belongs to
// now, as Vault reports them to the plugin.
func (b *backend) entityGroups(entityID string) (map[string]bool, error) {
	groups, err := b.System().GroupsForEntity(entityID)
	if err != nil {
		return nil, fmt.Errorf("look up identity groups of entity %q: %w", entityID, err)
	}
	names := make(map[string]bool, len(groups))
	for _, group := range groups {
		names[group.Name] = true
	}
	return names, nil
}

// sharesAlias reports whether entityID holds any of the recorded aliases:
// the same person, though under another entity ID after a merge.
func (b *backend) sharesAlias(entityID string, recorded []string) bool {
	for _, alias := range b.requesterIdentity(&logical.Request{EntityID: entityID}).aliases {
		for _, other := range recorded {
			if alias == other {
				return true
			}
		}
	}
	return false
}

// memberOfAny reports whether any of names is in groups.
func memberOfAny(groups map[string]bool, names []string) bool {
	for _, name := range names {
		if groups[name] {
			return true
		}
	}
	return false
}

// checkRequester returns a caller error when the entity may not ask for the
// role: it is not in the role's requester_groups.
// Each refusal counts as a circumvention attempt in the program figures.
func (b *backend) checkRequester(ctx context.Context, s logical.Storage, entityID, roleName string, role *roleEntry) error {
	if len(role.RequesterGroups) == 0 {
		return nil
	}
	groups, err := b.entityGroups(entityID)
	if err != nil {
		return err
	}
	if !memberOfAny(groups, role.RequesterGroups) {
		b.countAttempt(ctx, s, attemptOutsideRequesters, "")
		return &callerError{fmt.Sprintf("entity %s is not a member of any of the requester_groups %q of role %q; ask an operator to add you to one", entityID, role.RequesterGroups, roleName)}
	}
	return nil
}

// callerError is a mistake or a refusal the caller must act on: it becomes a
// 400 response, never a 500.
type callerError struct{ message string }

func (e *callerError) Error() string { return e.message }
