output "host" {
  description = "Host name of the Service (reachable from the same namespace)."
  value       = kubernetes_service_v1.this.metadata[0].name
}

output "port" {
  description = "Service port."
  value       = 9092
}
