# The zsp/ secrets engine, its settings, one PostgreSQL connection, an
# on-call schedule and two task roles. Register the plugin binary first
# (`vault plugin register -sha256=... -version=... secret vault-plugin-secrets-zsp`);
# the provider takes VAULT_ADDR and VAULT_TOKEN from the environment.
#
# Every read of the engine returns the fields a write accepts, in the form
# they were written (durations such as "10m" or 900, lists in order), so
# vault_generic_endpoint reports no drift after an apply.

resource "vault_mount" "zsp" {
  path           = "zsp"
  type           = "vault-plugin-secrets-zsp"
  description    = "Zero standing privileges on PostgreSQL"
  plugin_version = var.plugin_version
}

# The config body sets every field, so ignore_absent_fields stays off and a
# field changed outside Terraform shows up in the plan.
resource "vault_generic_endpoint" "config" {
  path = "${vault_mount.zsp.path}/config"

  # zsp/config has no delete operation, so destroying this resource only
  # removes it from the state. Unmounting zsp/ deletes the settings.
  disable_delete = true

  data_json = jsonencode({
    default_ttl              = "1h"
    max_ttl                  = "8h"
    request_ttl              = "24h"
    claim_ttl                = "1h"
    emergency_request_ttl    = "15m"
    approval_sla             = "30m"
    request_retention        = "9480h"
    business_hours           = "mon-fri 09:00-18:00"
    timezone                 = "Europe/Berlin"
    security_score_threshold = 70
    webhook_urls             = var.webhook_urls
  })
}

resource "vault_generic_endpoint" "connection" {
  path = "${vault_mount.zsp.path}/connections/main"

  # Reads never return the password. With ignore_absent_fields the provider
  # counts a written field that a read leaves out as unchanged, so the
  # password shows no drift. It also ignores read fields that this body does
  # not set, such as verify_connection.
  ignore_absent_fields = true

  data_json = jsonencode({
    plugin_name             = "postgresql"
    connection_url          = var.postgres_connection_url
    username                = var.postgres_admin_username
    password                = var.postgres_admin_password
    max_open_connections    = 4
    max_connection_lifetime = "30m"
  })
}

resource "vault_generic_endpoint" "oncall_dba" {
  path                 = "${vault_mount.zsp.path}/oncall/dba"
  ignore_absent_fields = true

  data_json = jsonencode({
    description = "DBA on-call rotation"
    shifts      = var.dba_oncall_shifts
  })
}

# A tier 1 task: each request waits for one approval from dba-leads, and
# members of the dba schedule on shift get the expedited path.
resource "vault_generic_endpoint" "role_orders_hotfix" {
  path                 = "${vault_mount.zsp.path}/roles/orders-hotfix"
  ignore_absent_fields = true

  # Writing a role runs its grant statements on the connection and checks
  # that the schedule exists, so both must be written first.
  depends_on = [
    vault_generic_endpoint.connection,
    vault_generic_endpoint.oncall_dba,
  ]

  data_json = jsonencode({
    connection  = "main"
    description = "Fix stuck orders"
    grant_statements = [
      "GRANT USAGE ON SCHEMA sales TO {{group}}",
      "GRANT SELECT, UPDATE ON sales.orders TO {{group}}",
    ]
    default_ttl           = "10m"
    max_ttl               = "30m"
    risk_tier             = 1
    requester_groups      = ["app-team"]
    approver_groups       = ["dba-leads"]
    required_approvals    = 1
    require_justification = true
    oncall_schedule       = "dba"
    max_extensions        = 1
  })
}

# A parameterized task: requesters choose the schema, and only the listed
# values are accepted. Tier 3 requests at or below the score threshold are
# approved by policy.
resource "vault_generic_endpoint" "role_read_schema" {
  path                 = "${vault_mount.zsp.path}/roles/read-schema"
  ignore_absent_fields = true
  depends_on           = [vault_generic_endpoint.connection]

  data_json = jsonencode({
    connection  = "main"
    description = "Read one schema, chosen by the requester"
    grant_statements = [
      "GRANT USAGE ON SCHEMA {{schema}} TO {{group}}",
      "GRANT SELECT ON ALL TABLES IN SCHEMA {{schema}} TO {{group}}",
    ]
    parameters = {
      schema = ["billing", "sales"]
    }
    # Seconds work as well as "15m"; reads return the number as written.
    default_ttl            = 900
    max_ttl                = "1h"
    risk_tier              = 3
    auto_approve_max_score = 25
    requester_groups       = ["app-team"]
  })
}
