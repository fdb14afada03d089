output "host" {
  description = "Host name of the Service (reachable from the same namespace)."
  value       = kubernetes_service_v1.this.metadata[0].name
}

output "port" {
  description = "Service port."
  value       = 5432
}

output "database" {
  description = "Database name."
  value       = var.database
}

output "username" {
  description = "User name (a superuser)."
  value       = var.username
}

output "password" {
  description = "The user's password."
  value       = random_password.password.result
  sensitive   = true
}
