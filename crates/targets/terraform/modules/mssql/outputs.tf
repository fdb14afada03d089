output "server" {
  description = "Host name of the Service (reachable from the same namespace)."
  value       = kubernetes_service_v1.this.metadata[0].name
}

output "port" {
  description = "Service port."
  value       = 1433
}

output "database" {
  description = "Database name."
  value       = "master"
}

output "username" {
  description = "User name (the system administrator)."
  value       = "sa"
}

output "password" {
  description = "The sa password."
  value       = random_password.password.result
  sensitive   = true
}

output "connection" {
  description = "ADO.NET connection string."
  value       = "Server=${kubernetes_service_v1.this.metadata[0].name},1433;User Id=sa;Password=${random_password.password.result};TrustServerCertificate=True"
  sensitive   = true
}
