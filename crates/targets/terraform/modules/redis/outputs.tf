output "host" {
  description = "Host name of the Service (reachable from the same namespace)."
  value       = kubernetes_service_v1.this.metadata[0].name
}

output "port" {
  description = "Service port."
  value       = 6379
}

output "username" {
  description = "User name."
  value       = "default"
}

output "password" {
  description = "The password."
  value       = random_password.password.result
  sensitive   = true
}
