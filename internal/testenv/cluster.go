package testenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
)

const (
	// clusterWaitTimeout bounds each wait while a cluster starts or fails
	// over: a listener coming up, a node unsealing or becoming active, the
	// raft configuration listing every voter. On a 2-core machine that also
	// ran other tests, the slowest wait (for the voters) took about 8
	// seconds, and a failover about 2 seconds.
	clusterWaitTimeout = 2 * time.Minute

	clusterPollInterval = 200 * time.Millisecond
)

// Cluster is a Vault HA cluster with integrated storage (raft), each node a
// child process listening on 127.0.0.1, with the plugin registered by
// SHA-256 and mounted at zsp/. Standby nodes forward every request to the
// active node. Every node is stopped when the test ends.
type Cluster struct {
	Nodes     []*ClusterNode
	Token     string // root token returned by sys/init; it works on every node
	PluginDir string // the plugin_directory of every node

	unsealKey string // the single Shamir key share; never logged

	mu              sync.Mutex // serializes userpass setup and group membership updates
	userpassEnabled bool
}

// ClusterNode is one Vault server of a Cluster.
type ClusterNode struct {
	ID          string      // raft node_id: node1 to nodeN
	Addr        string      // api_addr, http://127.0.0.1:<port>
	ClusterAddr string      // cluster_addr, https://127.0.0.1:<port+1>
	Client      *api.Client // root token, sent to this node only
	LogPath     string      // server stdout and stderr, logged at debug level
	DataDir     string      // raft data directory

	server *Vault // the server process, run with the dev server's stop, kill and log code
}

// StartCluster starts n Vault servers with raft storage and initializes the
// first with one key share. It unseals the first node, joins the others to
// it through sys/storage/raft/join and unseals them. Once the raft
// configuration lists n voters and every standby follows the active node,
// it registers the plugin from BuildPlugin by SHA-256 and mounts it at zsp/
// through the active node.
func StartCluster(tb testing.TB, n int) *Cluster {
	tb.Helper()

	if n < 1 {
		tb.Fatalf("start vault cluster: n is %d; ask for at least 1 node (3 for a cluster that survives a failure)", n)
	}
	bin := VaultBinary(tb)
	pluginDir, _ := BuildPlugin(tb)
	dir := tb.TempDir()

	c := &Cluster{PluginDir: pluginDir}
	for i := 1; i <= n; i++ {
		c.Nodes = append(c.Nodes, startClusterNode(tb, bin, dir, pluginDir, "node"+strconv.Itoa(i)))
	}

	c.initialize(tb)
	first := c.Nodes[0]
	c.unseal(tb, first)
	c.waitUntilActive(tb, first)
	c.shortenStabilization(tb, first)

	for _, node := range c.Nodes[1:] {
		c.join(tb, node, first)
		c.unseal(tb, node)
	}
	c.waitForVoters(tb, first, n)

	leader := c.Leader(tb)
	c.Standbys(tb)
	leader.server.Setup(tb)
	return c
}

// startClusterNode starts one uninitialized server and waits until its
// sys/seal-status responds. It tries again on new ports when another
// process took the API port between the probe and Vault's bind.
func startClusterNode(tb testing.TB, bin, dir, pluginDir, id string) *ClusterNode {
	tb.Helper()

	for attempt := 1; ; attempt++ {
		node := newClusterNode(tb, bin, dir, pluginDir, id)
		node.start(tb)
		err := node.waitListening(tb)
		if err == nil {
			return node
		}

		portTaken := node.server.LogContains(tb, "address already in use")
		if !portTaken || attempt == vaultStartAttempts {
			tb.Fatalf("start vault cluster node %s: %v (log: %s)", id, err, node.LogPath)
		}
		tb.Logf("vault cluster node %s could not bind port %d or %d, retrying on other ports", id, node.server.port, node.server.port+1)
		node.server.Kill(tb)
	}
}

func newClusterNode(tb testing.TB, bin, dir, pluginDir, id string) *ClusterNode {
	tb.Helper()

	// vaultFreePort checks that port and port+1 are both free: the API
	// listener takes the first and the cluster listener the second.
	// NOTE: Vault binds the cluster port only when the node unseals or
	// joins, and a bind failure there is not retried.
	port := vaultFreePort(tb)
	nodeDir := filepath.Join(dir, id+"-"+strconv.Itoa(port))
	server := &Vault{
		Addr: "http://127.0.0.1:" + strconv.Itoa(port),
		// Vault.logTail replaces Token in the log lines it prints, and an
		// empty Token would match between every character. So until
		// sys/init returns the root token, Token is a random placeholder.
		Token:     "uninitialized-" + vaultRandomHex(tb, 16),
		LogPath:   filepath.Join(nodeDir, "vault.log"),
		PluginDir: pluginDir,
		bin:       bin,
		port:      port,
		dir:       nodeDir,
		exited:    make(chan struct{}),
	}
	server.Client = server.NewClient(tb, "")

	return &ClusterNode{
		ID:          id,
		Addr:        server.Addr,
		ClusterAddr: "https://127.0.0.1:" + strconv.Itoa(port+1),
		Client:      server.Client,
		LogPath:     server.LogPath,
		DataDir:     filepath.Join(nodeDir, "raft"),
		server:      server,
	}
}

// config returns the node's server configuration in HCL.
func (n *ClusterNode) config() string {
	quote := strconv.Quote
	return fmt.Sprintf(`storage "raft" {
  path    = %s
  node_id = %s

  # Raft's heartbeat and election timeouts are 3s times this
  # multiplier. The default, 5, makes a failover wait 15s or more.
  performance_multiplier = 1
}

listener "tcp" {
  address         = %s
  cluster_address = %s
  tls_disable     = true
}

api_addr         = %s
cluster_addr     = %s
plugin_directory = %s
disable_mlock    = true
log_level        = "debug"
`,
		quote(n.DataDir), quote(n.ID),
		quote(strings.TrimPrefix(n.Addr, "http://")), quote(strings.TrimPrefix(n.ClusterAddr, "https://")),
		quote(n.Addr), quote(n.ClusterAddr), quote(n.server.PluginDir))
}

// start writes the node's configuration and launches the server process,
// registering its cleanup.
func (n *ClusterNode) start(tb testing.TB) {
	tb.Helper()

	v := n.server
	if err := os.MkdirAll(n.DataDir, 0o700); err != nil {
		tb.Fatalf("create raft data directory %s: %v", n.DataDir, err)
	}
	configPath := filepath.Join(v.dir, "vault.hcl")
	if err := os.WriteFile(configPath, []byte(n.config()), 0o600); err != nil {
		tb.Fatalf("write vault config %s: %v", configPath, err)
	}

	logFile, err := os.Create(v.LogPath)
	if err != nil {
		tb.Fatalf("create vault log %s: %v", v.LogPath, err)
	}
	defer logFile.Close()

	// childEnv drops every VAULT_* variable of the test process, because
	// the server reads VAULT_API_ADDR, VAULT_CLUSTER_ADDR and
	// VAULT_RAFT_NODE_ID over its configuration file.
	v.cmd = exec.Command(v.bin, "server", "-config="+configPath)
	v.cmd.Env = v.childEnv("")
	v.cmd.Stdout = logFile
	v.cmd.Stderr = logFile
	v.cmd.SysProcAttr = vaultProcAttr()
	if err := v.cmd.Start(); err != nil {
		tb.Fatalf("start %s server for cluster node %s: %v", v.bin, n.ID, err)
	}

	go func() {
		_ = v.cmd.Wait()
		close(v.exited)
	}()
	tb.Cleanup(func() { v.cleanup(tb) })
}

// waitListening polls sys/seal-status, which responds as soon as the
// listener is up, before the node is initialized or unsealed.
func (n *ClusterNode) waitListening(tb testing.TB) error {
	tb.Helper()

	return n.poll(tb, "answer sys/seal-status", func() error {
		_, err := n.Client.Sys().SealStatusWithContext(tb.Context())
		return err
	})
}

// poll calls check until it returns nil, and returns an error naming what
// when the node exits, the test ends or clusterWaitTimeout passes.
func (n *ClusterNode) poll(tb testing.TB, what string, check func() error) error {
	tb.Helper()

	deadline := time.Now().Add(clusterWaitTimeout)
	for {
		err := check()
		if err == nil {
			return nil
		}

		select {
		case <-n.server.exited:
			return fmt.Errorf("node %s exited before it could %s: %s", n.ID, what, n.server.cmd.ProcessState)
		case <-tb.Context().Done():
			return fmt.Errorf("test ended before node %s could %s: %w", n.ID, what, tb.Context().Err())
		case <-time.After(clusterPollInterval):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("node %s did not %s within %s: %w", n.ID, what, clusterWaitTimeout, err)
		}
	}
}

// Alive reports whether the node's server process is still running.
func (n *ClusterNode) Alive() bool {
	return !n.server.hasExited()
}

// NewClient returns an API client for this node authenticated with token.
// It reads no VAULT_* environment variable that could send it elsewhere.
func (n *ClusterNode) NewClient(tb testing.TB, token string) *api.Client {
	tb.Helper()
	return n.server.NewClient(tb, token)
}

// CLI runs the vault command against this node with token and returns its
// output, as Vault.CLI does.
func (n *ClusterNode) CLI(tb testing.TB, token string, args ...string) (stdout, stderr string, err error) {
	tb.Helper()
	return n.server.CLI(tb, token, args...)
}

// LogContains reports whether the node's log contains s.
func (n *ClusterNode) LogContains(tb testing.TB, s string) bool {
	tb.Helper()
	return n.server.LogContains(tb, s)
}

// initialize runs sys/init on the first node with one key share and a
// threshold of one, and gives every node a client with the root token.
func (c *Cluster) initialize(tb testing.TB) {
	tb.Helper()

	first := c.Nodes[0]
	resp, err := first.Client.Sys().InitWithContext(tb.Context(), &api.InitRequest{SecretShares: 1, SecretThreshold: 1})
	if err != nil {
		tb.Fatalf("initialize vault cluster through node %s: %v", first.ID, err)
	}
	if len(resp.Keys) != 1 || resp.RootToken == "" {
		tb.Fatalf("initialize vault cluster through node %s: expected 1 key share and a root token, got %d shares", first.ID, len(resp.Keys))
	}

	c.unsealKey = resp.Keys[0]
	c.Token = resp.RootToken
	for _, node := range c.Nodes {
		node.server.Token = c.Token
		node.server.Client = node.server.NewClient(tb, c.Token)
		node.Client = node.server.Client
	}
}

// unseal sends the key share to node and waits until it reports unsealed.
// A node that joined raft unseals only after it has fetched the leader's
// data, which is why the wait is needed.
func (c *Cluster) unseal(tb testing.TB, node *ClusterNode) {
	tb.Helper()

	if _, err := node.Client.Sys().UnsealWithContext(tb.Context(), c.unsealKey); err != nil {
		tb.Fatalf("unseal node %s: %v", node.ID, err)
	}

	err := node.poll(tb, "unseal", func() error {
		status, err := node.Client.Sys().SealStatusWithContext(tb.Context())
		if err != nil {
			return err
		}
		if status.Sealed {
			return errors.New("sys/seal-status reports sealed")
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("unseal vault cluster: %v (log: %s)", err, node.LogPath)
	}
}

// join adds node to the raft cluster of leader through sys/storage/raft/join.
func (c *Cluster) join(tb testing.TB, node, leader *ClusterNode) {
	tb.Helper()

	resp, err := node.Client.Sys().RaftJoinWithContext(tb.Context(), &api.RaftJoinRequest{LeaderAPIAddr: leader.Addr})
	if err != nil {
		tb.Fatalf("join node %s to the raft cluster of %s at %s: %v", node.ID, leader.ID, leader.Addr, err)
	}
	if !resp.Joined {
		tb.Fatalf("join node %s to the raft cluster of %s at %s: sys/storage/raft/join returned joined=false (log: %s)", node.ID, leader.ID, leader.Addr, node.LogPath)
	}
}

// waitUntilActive waits until node reports itself the active node.
func (c *Cluster) waitUntilActive(tb testing.TB, node *ClusterNode) {
	tb.Helper()

	err := node.poll(tb, "become the active node", func() error {
		leader, err := node.Client.Sys().LeaderWithContext(tb.Context())
		if err != nil {
			return err
		}
		if !leader.IsSelf {
			return fmt.Errorf("sys/leader reports the active node at %q", leader.LeaderAddress)
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("wait for the active node: %v (log: %s)", err, node.LogPath)
	}
}

// shortenStabilization sets autopilot's server_stabilization_time to one
// second, so that a joined node is promoted to voter about ten seconds
// sooner than with the 10s default. The other autopilot settings keep their
// defaults.
func (c *Cluster) shortenStabilization(tb testing.TB, leader *ClusterNode) {
	tb.Helper()

	_, err := leader.Client.Logical().WriteWithContext(tb.Context(), "sys/storage/raft/autopilot/configuration", map[string]any{
		"server_stabilization_time": "1s",
	})
	if err != nil {
		tb.Fatalf("set autopilot server_stabilization_time through node %s: %v", leader.ID, err)
	}
}

// waitForVoters waits until the raft configuration read through node lists
// want voters. Autopilot adds a joined node as a non-voter and promotes it
// once it has been healthy for server_stabilization_time.
func (c *Cluster) waitForVoters(tb testing.TB, node *ClusterNode, want int) {
	tb.Helper()

	err := node.poll(tb, fmt.Sprintf("list %d raft voters", want), func() error {
		voters, err := raftVoters(tb, node.Client)
		if err != nil {
			return err
		}
		if len(voters) != want {
			return fmt.Errorf("sys/storage/raft/configuration lists voters %v", voters)
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("wait for raft voters: %v", err)
	}
}

// raftVoters returns the node IDs that sys/storage/raft/configuration lists
// as voters.
func raftVoters(tb testing.TB, client *api.Client) ([]string, error) {
	secret, err := client.Logical().ReadWithContext(tb.Context(), "sys/storage/raft/configuration")
	if err != nil {
		return nil, fmt.Errorf("read sys/storage/raft/configuration: %w", err)
	}
	if secret == nil {
		return nil, errors.New("sys/storage/raft/configuration returned no data")
	}

	config, _ := secret.Data["config"].(map[string]any)
	servers, _ := config["servers"].([]any)
	var voters []string
	for _, raw := range servers {
		server, _ := raw.(map[string]any)
		if voter, _ := server["voter"].(bool); voter {
			voters = append(voters, fmt.Sprint(server["node_id"]))
		}
	}
	return voters, nil
}

// Leader waits until one running node reports itself the active node and
// returns it.
func (c *Cluster) Leader(tb testing.TB) *ClusterNode {
	tb.Helper()
	return c.waitForLeader(tb, nil)
}

// WaitForNewLeader waits until a running node other than excluding reports
// itself the active node and every other running node follows it, and
// returns it. Use it after Kill of the active node.
func (c *Cluster) WaitForNewLeader(tb testing.TB, excluding *ClusterNode) *ClusterNode {
	tb.Helper()

	leader := c.waitForLeader(tb, excluding)
	c.Standbys(tb)
	return leader
}

func (c *Cluster) waitForLeader(tb testing.TB, excluding *ClusterNode) *ClusterNode {
	tb.Helper()

	deadline := time.Now().Add(clusterWaitTimeout)
	for {
		leader, err := c.findLeader(tb, excluding)
		if err == nil {
			return leader
		}

		if time.Now().After(deadline) {
			tb.Fatalf("wait for an active node: none within %s: %v", clusterWaitTimeout, err)
		}
		select {
		case <-tb.Context().Done():
			tb.Fatalf("wait for an active node: test ended: %v", err)
		case <-time.After(clusterPollInterval):
		}
	}
}

// findLeader returns the running node, other than excluding, whose
// sys/leader reports is_self.
func (c *Cluster) findLeader(tb testing.TB, excluding *ClusterNode) (*ClusterNode, error) {
	var problems []error
	for _, node := range c.Nodes {
		if node == excluding || !node.Alive() {
			continue
		}

		leader, err := node.Client.Sys().LeaderWithContext(tb.Context())
		if err != nil {
			problems = append(problems, fmt.Errorf("node %s: %w", node.ID, err))
			continue
		}
		if leader.IsSelf {
			return node, nil
		}
	}
	return nil, fmt.Errorf("no running node reports itself active: %w", errors.Join(problems...))
}

// Standbys waits until every running node other than the active one is
// unsealed and names the active node in sys/leader, so that it can forward
// requests, and returns those nodes in ID order.
func (c *Cluster) Standbys(tb testing.TB) []*ClusterNode {
	tb.Helper()

	leader := c.Leader(tb)
	var standbys []*ClusterNode
	for _, node := range c.Nodes {
		if node == leader || !node.Alive() {
			continue
		}

		err := node.poll(tb, "follow the active node "+leader.ID, func() error {
			return followsLeader(tb, node, leader)
		})
		if err != nil {
			tb.Fatalf("wait for standby nodes: %v (log: %s)", err, node.LogPath)
		}
		standbys = append(standbys, node)
	}
	return standbys
}

// followsLeader returns nil when node is an unsealed standby whose
// sys/leader names leader as the active node.
func followsLeader(tb testing.TB, node, leader *ClusterNode) error {
	health, err := node.Client.Sys().HealthWithContext(tb.Context())
	if err != nil {
		return err
	}
	if health.Sealed || !health.Standby {
		return fmt.Errorf("sys/health reports sealed=%t standby=%t", health.Sealed, health.Standby)
	}

	status, err := node.Client.Sys().LeaderWithContext(tb.Context())
	if err != nil {
		return err
	}
	if status.LeaderAddress != leader.Addr || status.LeaderClusterAddress == "" {
		return fmt.Errorf("sys/leader names the active node at %q, expected %s", status.LeaderAddress, leader.Addr)
	}
	return nil
}

// Kill sends SIGKILL to the node's server process, as a crash would, and
// waits for it to exit. Its plugin processes keep running until the test
// ends, as they would after a crash. The other nodes keep their raft peer
// entry for it.
func (c *Cluster) Kill(tb testing.TB, node *ClusterNode) {
	tb.Helper()
	node.server.Kill(tb)
}

// ClusterUser is a userpass user of a Cluster with an identity entity. Its
// token is stored in raft, so it works on every node.
type ClusterUser struct {
	Name     string
	EntityID string

	token string
}

// Client returns an API client for node authenticated as the user.
func (u *ClusterUser) Client(tb testing.TB, node *ClusterNode) *api.Client {
	tb.Helper()
	return node.NewClient(tb, u.token)
}

// NewUser creates a userpass user, logs in as that user and adds the user's
// identity entity to each named internal group, creating missing groups.
// Every write goes to node, so a standby forwards them to the active node.
// The token's policy allows everything under zsp/, so the plugin, not the
// policy, decides what the user may do there.
func (c *Cluster) NewUser(tb testing.TB, node *ClusterNode, name string, groups ...string) *ClusterUser {
	tb.Helper()

	c.enableUserpass(tb, node)

	password := vaultRandomHex(tb, 16)
	_, err := node.Client.Logical().WriteWithContext(tb.Context(), "auth/userpass/users/"+name, map[string]any{
		"password":       password,
		"token_policies": []string{vaultUserPolicy},
	})
	if err != nil {
		tb.Fatalf("create userpass user %q through node %s: %v", name, node.ID, err)
	}

	login, err := node.Client.Logical().WriteWithContext(tb.Context(), "auth/userpass/login/"+name, map[string]any{
		"password": password,
	})
	if err != nil {
		tb.Fatalf("log in as userpass user %q through node %s: %v", name, node.ID, err)
	}
	if login == nil || login.Auth == nil || login.Auth.EntityID == "" {
		tb.Fatalf("log in as userpass user %q through node %s: response has no token with an entity ID", name, node.ID)
	}

	for _, group := range groups {
		c.addGroupMember(tb, node, group, login.Auth.EntityID)
	}
	return &ClusterUser{Name: name, EntityID: login.Auth.EntityID, token: login.Auth.ClientToken}
}

// enableUserpass enables the userpass auth method at auth/userpass and
// writes the users' policy, once per cluster.
func (c *Cluster) enableUserpass(tb testing.TB, node *ClusterNode) {
	tb.Helper()

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.userpassEnabled {
		return
	}

	err := node.Client.Sys().EnableAuthWithOptionsWithContext(tb.Context(), "userpass", &api.EnableAuthOptions{Type: "userpass"})
	if err != nil {
		tb.Fatalf("enable userpass auth method through node %s: %v", node.ID, err)
	}
	if err := node.Client.Sys().PutPolicyWithContext(tb.Context(), vaultUserPolicy, vaultUserPolicyRules); err != nil {
		tb.Fatalf("write policy %q through node %s: %v", vaultUserPolicy, node.ID, err)
	}
	c.userpassEnabled = true
}

// addGroupMember adds entityID to the member_entity_ids of the internal
// group named group, creating the group if it does not exist. The write
// replaces the whole member list, so the read and the write hold c.mu.
func (c *Cluster) addGroupMember(tb testing.TB, node *ClusterNode, group, entityID string) {
	tb.Helper()

	c.mu.Lock()
	defer c.mu.Unlock()
	if err := addIdentityGroupMember(tb.Context(), node.Client, group, entityID); err != nil {
		tb.Fatalf("through node %s: %v", node.ID, err)
	}
}
