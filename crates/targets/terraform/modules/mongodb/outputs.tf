output "host" {
  description = "Host name of the Service (reachable from the same namespace)."
  value       = kubernetes_service_v1.this.metadata[0].name
}

output "port" {
  description = "Service port."
  value       = 27017
}

output "username" {
  description = "User name (root)."
  value       = var.username
}

output "password" {
  description = "The user's password."
  value       = random_password.password.result
  sensitive   = true
}

output "connection" {
  description = "Connection string."
  value       = "mongodb://${var.username}:${random_password.password.result}@${kubernetes_service_v1.this.metadata[0].name}:27017/"
  sensitive   = true
}
