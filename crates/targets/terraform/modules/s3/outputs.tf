output "bucket" {
  description = "Bucket name (the module's name)."
  value       = var.name
}

output "region" {
  description = "Region (MinIO's default)."
  value       = "us-east-1"
}

output "endpoint" {
  description = "S3 endpoint URL."
  value       = "http://${kubernetes_service_v1.this.metadata[0].name}:9000"
}

output "access_key_id" {
  description = "Access key id."
  value       = random_password.access_key.result
  sensitive   = true
}

output "secret_key" {
  description = "Secret access key."
  value       = random_password.secret_key.result
  sensitive   = true
}
