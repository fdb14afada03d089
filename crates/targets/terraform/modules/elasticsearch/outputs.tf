output "host" {
  description = "Host name of the Service (reachable from the same namespace)."
  value       = kubernetes_service_v1.this.metadata[0].name
}

output "port" {
  description = "Service port."
  value       = 9200
}

output "username" {
  description = "User name."
  value       = "elastic"
}

output "password" {
  description = "The password."
  value       = random_password.password.result
  sensitive   = true
}
