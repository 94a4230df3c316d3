variable "plugin_version" {
  description = "Version of vault-plugin-secrets-zsp the zsp/ mount runs, as registered with `vault plugin register -version`. Null runs the newest registered version."
  type        = string
  default     = null
}

variable "postgres_connection_url" {
  description = "PostgreSQL URL with {{username}} and {{password}} placeholders, for example postgres://{{username}}:{{password}}@db.example.com:5432/app?sslmode=verify-full. It must not contain a literal password, because reads return it."
  type        = string
}

variable "postgres_admin_username" {
  description = "Admin role the engine connects as: a superuser, or a role with CREATEROLE that may grant what the task roles grant."
  type        = string
  default     = "vault_admin"
}

variable "postgres_admin_password" {
  description = "Password of the admin role. Vault never returns it. Run `vault write -f zsp/rotate-root/main` afterwards so that only Vault knows it."
  type        = string
  sensitive   = true
}

variable "webhook_urls" {
  description = "HTTP(S) URLs that receive a Slack-compatible JSON message for each pending request, decision, break-glass grant and SLA breach. Chat webhooks carry tokens, so treat them as secrets."
  type        = list(string)
  sensitive   = true
  default     = []
}

variable "dba_oncall_shifts" {
  description = "Shifts of the dba on-call schedule: the Vault identity entity IDs on call from start until end, both RFC 3339 times."
  type = list(object({
    members = list(string)
    start   = string
    end     = string
  }))
  default = []
}
