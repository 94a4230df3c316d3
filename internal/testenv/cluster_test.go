package testenv

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestClusterStartAndFailover(t *testing.T) {
	t.Parallel()
	c := StartCluster(t, 3)

	leader := c.Leader(t)
	standbys := c.Standbys(t)
	require.Len(t, standbys, 2)
	require.NotContains(t, standbys, leader)

	voters, err := raftVoters(t, leader.Client)
	require.NoError(t, err)
	slices.Sort(voters)
	require.Equal(t, []string{"node1", "node2", "node3"}, voters)

	mounts, err := standbys[0].Client.Sys().ListMountsWithContext(t.Context())
	require.NoError(t, err, "list mounts through standby %s", standbys[0].ID)
	require.Contains(t, mounts, "zsp/")
	require.Equal(t, vaultPluginName, mounts["zsp/"].Type)

	// A write sent to a standby is forwarded and visible on the active node.
	rules := `path "zsp/creds/*" { capabilities = ["read"] }`
	require.NoError(t, standbys[1].Client.Sys().PutPolicyWithContext(t.Context(), "forwarded", rules))
	stored, err := leader.Client.Sys().GetPolicyWithContext(t.Context(), "forwarded")
	require.NoError(t, err)
	require.Equal(t, rules, stored)

	t.Run("users made through any node work on every node", func(t *testing.T) {
		user := c.NewUser(t, standbys[0], "ursula", "readers", "writers")
		other := c.NewUser(t, leader, "victor", "readers")
		require.NotEqual(t, user.EntityID, other.EntityID)

		for _, node := range c.Nodes {
			self, err := user.Client(t, node).Auth().Token().LookupSelfWithContext(t.Context())
			require.NoError(t, err, "look up the user's token through node %s", node.ID)
			require.Equal(t, user.EntityID, self.Data["entity_id"])
		}

		readers, err := standbys[1].Client.Logical().ReadWithContext(t.Context(), "identity/group/name/readers")
		require.NoError(t, err)
		require.NotNil(t, readers)
		require.ElementsMatch(t, []any{user.EntityID, other.EntityID}, readers.Data["member_entity_ids"])
	})

	c.Kill(t, leader)
	require.False(t, leader.Alive())

	next := c.WaitForNewLeader(t, leader)
	require.NotEqual(t, leader.ID, next.ID)
	survivors := c.Standbys(t)
	require.Len(t, survivors, 1)
	require.NotContains(t, []*ClusterNode{leader, next}, survivors[0])

	stored, err = survivors[0].Client.Sys().GetPolicyWithContext(t.Context(), "forwarded")
	require.NoError(t, err, "read the policy through the surviving standby")
	require.Equal(t, rules, stored)
	mounts, err = next.Client.Sys().ListMountsWithContext(t.Context())
	require.NoError(t, err)
	require.Contains(t, mounts, "zsp/", "the new active node lost the plugin mount")
}
